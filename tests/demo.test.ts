import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/dev/functions-server.js';

// One file, so the runs share .demo/ one after the other.

it('npm run demo: scripted respondents through the flow, only tokens in the sheet, plaintext only after decrypt-csv', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  expect(await new Promise((ok) => child.on('close', ok)), err).toBe(0);
  const sheet = out.slice(out.indexOf('3. The Google Sheet'), out.indexOf('4. Exported'));
  const decrypted = out.slice(out.indexOf('4. Exported'), out.indexOf('What you saw'));
  const names = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'flows', 'answers', 'demo.json'), 'utf8')) as Array<{ replies: string[] }>)
    .flatMap((r) => r.replies)
    .filter((reply) => /^\p{L}+ \p{L}+ \p{L}+$/u.test(reply));
  expect(names.length).toBeGreaterThan(2);
  expect(sheet).toMatch(/ss1\.pkx?\.[0-9a-f]{8}\.full_n/);
  for (const name of names) expect(sheet).not.toContain(name.slice(0, 15));
  // The decrypted table shows the names the respondents typed.
  expect(names.filter((name) => decrypted.includes(name.slice(0, 15))).length).toBeGreaterThanOrEqual(3);
  // Every respondent ends in exactly one row, the one who declined too; the outcome table counts them.
  expect(out).toMatch(/5 executions in .*: 5 completed, 0 handed off, 0 failed; 5 stored by publish/);
  expect(out).toContain('outcomes: complete 4, declined 1\n');
  // outcome, final_status and last_answered (the question each stopped after), the sheet's last columns.
  const outcomes = sheet.split('\n').filter((l) => /\b(complete|declined)\s+q_\w+\s*$/.test(l)).map((l) => l.trim().split(/\s+/).slice(-3).join(' '));
  expect(outcomes.sort()).toEqual(['complete complete q_comment', 'complete complete q_comment', 'complete complete q_comment', 'complete complete q_comment', 'declined declined q_consent']);
}, 90_000);

it('npm run demo -- --interactive: Ctrl-C at the first question, in a real terminal, exits 130 quietly and stops the local stack', async () => {
  // Its own TMPDIR: the local Functions keep their environment file there until they are stopped.
  const tmp = mkdtempSync(join(tmpdir(), 'sealed-survey-demo-'));
  const argv = [process.execPath, '--import', 'tsx', 'scripts/demo.ts', '--interactive'];
  const line = argv.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  // script(1) gives the demo a terminal, so readline is in raw mode and Ctrl-C arrives as a key, as for a person.
  const child = spawn('script', process.platform === 'darwin' ? ['-q', '/dev/null', ...argv] : ['-qefc', line, '/dev/null'], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SHELL: '/bin/sh', TERM: 'dumb', TMPDIR: tmp },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((ok) => child.on('close', ok));
  try {
    await new Promise<void>((ok, fail) => {
      const onData = (d: Buffer) => {
        output += d.toString();
        // The survey's first question, then readline's prompt.
        if (/You answer[\s\S]*> /.test(output)) ok();
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      void exited.then(() => fail(new Error(`the demo exited before asking:\n${output}`)));
    });
    expect(readdirSync(tmp).filter((f) => f.startsWith('sealed-survey-env-'))).toHaveLength(1);
    child.stdin.write('\u0003');
    expect(await exited).toBe(130);
    expect(output).not.toMatch(/demo failed|unexpected|AbortError/);
    expect(readdirSync(tmp).filter((f) => f.startsWith('sealed-survey-env-'))).toEqual([]);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    rmSync(tmp, { recursive: true, force: true });
  }
}, 60_000);
