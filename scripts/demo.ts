import { runCommand, stopSignal } from '../src/cli/common.js';
import { runDemo } from '../src/demo.js';

const code = await runCommand(
  'demo',
  () => runDemo(process.argv.slice(2), stopSignal()),
  (error) => {
    // The demo runs on this machine only, with demo keys: its errors' messages are safe to show and say most.
    process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  },
);
process.exitCode ||= code;
