// `npm run demo`: the whole mission in one command, on embedded defaults and
// no accounts. Demo keys → local Sheets server, Functions and Sync stand-in →
// scripted respondents through flows/whatsapp-survey.json → the sheet holds
// only ciphertext in PII columns → CSV export → decrypt-csv with the private key.

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { UserError } from './cli/common.js';
import { ctrlCInterrupts } from './cli/terminal.js';
import { encodeCell, readCsvRows } from './csv/scan.js';
import { PROJECT_ROOT } from './dev/functions-server.js';
import { startLocalStack, type LocalStack } from './dev/stack.js';
import { flowColumns } from './flow/columns.js';
import { readFlow } from './flow/definition.js';
import { readScript, ScriptedChat, triggerOf } from './flow/respondents.js';
import { formatSummary, simulate, type Job } from './flow/simulate.js';
import { TerminalChat } from './flow/terminal-chat.js';

const FLOW = join(PROJECT_ROOT, 'flows', 'whatsapp-survey.json');
const ANSWERS = join(PROJECT_ROOT, 'flows', 'answers', 'demo.json');
const DEMO_DIR = join(PROJECT_ROOT, '.demo');

const say = (line = '') => process.stdout.write(`${line}\n`);
const rel = (p: string) => relative(process.cwd(), p) || '.';

/** A table for the terminal; long cells (tokens) are cut so the shape stays readable. */
function table(rows: readonly (readonly string[])[], width = 26): string {
  const cut = (s: string) => (s.length > width ? `${s.slice(0, width - 1)}…` : s);
  const cells = rows.map((r) => r.map(cut));
  const widths = cells[0]?.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length))) ?? [];
  return cells.map((r) => '  ' + widths.map((w, i) => (r[i] ?? '').padEnd(w)).join('  ')).join('\n');
}

function csvText(rows: readonly (readonly string[])[]): string {
  return rows.map((r) => r.map((c) => encodeCell(c)).join(',')).join('\r\n') + '\r\n';
}

/** `stop` aborts on Ctrl-C: the demo then stops what it started and rejects with the signal's reason. */
export async function runDemo(argv: readonly string[], stop: AbortSignal): Promise<number> {
  const interactive = argv.includes('--interactive');
  const flow = readFlow(FLOW);
  mkdirSync(DEMO_DIR, { recursive: true, mode: 0o700 });
  let stack: LocalStack | undefined;
  const terminal = interactive ? new TerminalChat() : undefined;
  const undoCtrlC = terminal ? ctrlCInterrupts() : undefined;
  try {
    say('sealed-survey demo: a WhatsApp survey whose personal answers are sealed before they leave Twilio.\n');
    say(`1. Starting, on this machine: the Functions (twilio-run) holding only the PUBLIC key from ${rel(join(DEMO_DIR, 'keys'))}/,`);
    say('   a Google-Sheets-compatible server, and a Twilio Sync stand-in. No accounts needed.');
    stack = await startLocalStack({ flow, keysDir: join(DEMO_DIR, 'keys') });
    stop.throwIfAborted();

    const jobs: Job[] = terminal
      ? [{ trigger: { kind: 'message', from: 'whatsapp:+254700000000', body: 'Hi' }, chat: terminal }]
      : readScript(ANSWERS).map((r) => ({ trigger: triggerOf(r), chat: new ScriptedChat(r.replies) }));
    say(`\n2. ${terminal ? 'You answer' : `${jobs.length} scripted respondents answer`} ${rel(FLOW)} (the Studio flow, run by our local runner).`);
    if (terminal) say('   Type your answers; /timeout stays silent. The flow starts as if you had written "Hi".');
    const { summary } = await simulate(jobs, { flow, functionsUrl: stack.functions.url, authToken: stack.authToken, concurrency: terminal ? 1 : 4, signal: stop });
    if (!terminal) {
      say('   The first conversation, as the respondent saw it:');
      for (const line of (jobs[0]?.chat.transcript ?? []).slice(0, 8)) say(`     ${line.from === 'flow' ? 'survey:' : 'them:  '} ${line.text.split('\n')[0]}`);
      say('     …');
    }
    say(`   ${formatSummary(summary, { widgets: false }).split('\n').join('\n   ')}`);

    const rows = stack.sheets.rows(stack.spreadsheetId, stack.tab);
    const pii = flowColumns(flow).piiColumns;
    say(`\n3. The Google Sheet as stored (what anyone with Drive access sees). PII columns (${pii.join(', ')}) hold only ss1 tokens:`);
    say(table(rows));

    const csv = join(DEMO_DIR, 'responses.csv');
    const out = join(DEMO_DIR, 'responses.decrypted.csv');
    writeFileSync(csv, csvText(rows), { mode: 0o600 });
    say(`\n4. Exported to ${rel(csv)} (File → Download → CSV), then on the analyst's machine:`);
    const keyFile = stack.privateKeyFile;
    const args = ['--key-file', keyFile, '--columns', pii.join(','), '--force', '-o', out, csv];
    say(`   $ npx decrypt-csv --key-file ${rel(keyFile)} --columns ${pii.join(',')} -o ${rel(out)} ${rel(csv)}`);
    const run = spawnSync(process.execPath, [join(PROJECT_ROOT, 'dist', 'cli', 'decrypt-csv.js'), ...args], { encoding: 'utf8' });
    stop.throwIfAborted();
    if (run.status !== 0) throw new UserError(`decrypt-csv failed: ${run.stderr.trim()}`);
    const decrypted = readCsvRows(readFileSync(out));
    say(table(decrypted, 22));

    say('\nWhat you saw: answers were sealed by the encrypt Function with a public key, the sheet got ciphertext,');
    say('and only the private key on the analyst\'s machine turned it back into names and IDs.');
    say('\nNext:');
    say('  npm run demo -- --interactive                          answer the survey yourself');
    say('  npx sealed-survey simulate flows/whatsapp-survey.json  chat with the flow; --respondents 200 for load');
    say('  npx sealed-survey lint flows/whatsapp-survey.json      check a flow for personal data leaking past encrypt');
    say('  docs/FLOW.md, docs/PUBLISH.md                          import the flow in Studio, set up the sheet and deploy');
    return summary.failed > 0 ? 1 : 0;
  } finally {
    undoCtrlC?.();
    terminal?.close();
    await stack?.stop();
  }
}
