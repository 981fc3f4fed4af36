import { main } from '../src/cli/decrypt-csv.js';

process.exitCode = await main(process.argv);
