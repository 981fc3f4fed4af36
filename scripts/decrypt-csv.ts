import { main } from '../src/cli/decrypt-csv.js';

const code = await main(process.argv);
// A closed stdout noticed after main returned has already set 141: keep it.
process.exitCode ||= code;
