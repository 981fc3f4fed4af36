import { main } from '../src/cli/sealed-survey.js';

process.exitCode = await main(process.argv);
