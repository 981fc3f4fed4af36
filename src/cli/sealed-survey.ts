import { addBreaker } from './breaker.js';
import { addDeploy } from './deploy.js';
import { addDoctor } from './doctor.js';
import { addEncryptCsv } from './encrypt-csv.js';
import { addFlow } from './flow.js';
import { addFlush } from './flush.js';
import { addKeygen } from './keygen.js';
import { addDecryptRecording } from './decrypt-recording.js';
import { addRecordingKey } from './recording-key.js';
import { addLaunch } from './launch.js';
import { addLint } from './lint.js';
import { addMonitor } from './monitor.js';
import { addReport } from './report.js';
import { addPurge } from './purge.js';
import { addReconcile } from './reconcile.js';
import { addSimulate } from './simulate.js';
import { newProgram, runProgram } from './common.js';
import { addSheetsServer } from './sheets-server.js';

export async function main(argv: readonly string[]): Promise<number> {
  const program = newProgram('sealed-survey')
    .description('WhatsApp surveys on Twilio whose personal data is sealed before it leaves Studio.')
    .addHelpText('after', '\nExample:\n  $ sealed-survey keygen --out keys');
  addKeygen(program);
  addEncryptCsv(program);
  addSheetsServer(program);
  addFlush(program);
  addSimulate(program);
  addLint(program);
  addFlow(program);
  addDeploy(program);
  addDoctor(program);
  addLaunch(program);
  addMonitor(program);
  addReconcile(program);
  addPurge(program);
  addReport(program);
  addBreaker(program);
  addRecordingKey(program);
  addDecryptRecording(program);
  return runProgram(program, argv);
}
