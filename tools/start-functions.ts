// `npm start [-- twilio-run options]`: serves build/ locally with twilio-run.
import { spawn } from 'node:child_process';
import { PROJECT_ROOT, twilioRunArgs, twilioRunBin } from '../src/dev/functions-server.js';

const child = spawn(process.execPath, [twilioRunBin(), ...twilioRunArgs(process.argv.slice(2))], { cwd: PROJECT_ROOT, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
