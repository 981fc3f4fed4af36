import { runDemo } from '../src/demo.js';

try {
  process.exitCode = await runDemo(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
