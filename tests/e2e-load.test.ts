// The whole pipeline under load and faults: 1,000 generated respondents at
// concurrency 100 through flows/whatsapp-survey.json, the real local
// Functions, the Sheets server failing 30% of requests, the Sync queue, then
// flush: every execution exactly once in the sheet, with its outcome, and no
// personal data in plaintext anywhere but the respondents' own transcripts.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/dev/functions-server.js';
import { FAULT_KINDS } from '../src/dev/sheets-server.js';
import { startLocalStack, type LocalStack } from '../src/dev/stack.js';
import { piiAnswerWidgets, sealedFields } from '../src/flow/columns.js';
import { readFlow } from '../src/flow/definition.js';
import { GeneratedChat, rng } from '../src/flow/respondents.js';
import { simulate, type Job } from '../src/flow/simulate.js';
import { publishConfig } from '../src/publish/config.js';
import { flushQueue } from '../src/publish/flush.js';
import { syncStores } from '../src/publish/sync-stores.js';
import { sheetsClient } from '../src/sheets/client.js';
import { SheetTable } from '../src/sheets/table.js';

const dir = mkdtempSync(join(tmpdir(), 'sealed-survey-e2e-'));
let stack: LocalStack | undefined;

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('1,000 respondents at concurrency 100 with 30% Sheets faults: every execution once in the sheet after flush, with the outcome it ended with, no plaintext PII outside the transcripts', async () => {
  const flow = readFlow(join(PROJECT_ROOT, 'flows', 'whatsapp-survey.json'));
  stack = await startLocalStack({ flow, keysDir: join(dir, 'keys'), faults: { rate: 0.3, kinds: FAULT_KINDS, seed: 5 } });
  const random = rng(42);
  const piiWidgets = piiAnswerWidgets(flow);
  const chats: GeneratedChat[] = [];
  const jobs: Job[] = Array.from({ length: 1000 }, (_, i) => {
    const chat = new GeneratedChat(flow, { random, piiWidgets });
    chats.push(chat);
    return { trigger: { kind: 'message', from: `whatsapp:+2547${String(10_000_000 + i).slice(-8)}`, body: 'Hi' }, chat };
  });
  const transcripts = join(dir, 'transcripts');
  const { results, summary } = await simulate(jobs, { flow, functionsUrl: stack.functions.url, authToken: stack.authToken, concurrency: 100, transcriptDir: transcripts });

  expect([...summary.errors.keys()]).toEqual([]);
  expect(summary.failed).toBe(0);
  expect(summary.stored).toBeGreaterThan(500);
  const faults = stack.sheets.stats().faults;
  expect(Object.values(faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(100);

  // Drain the queue as an operator would after the storm.
  stack.sheets.setFaults(undefined);
  const config = publishConfig(stack.env);
  const table = new SheetTable(sheetsClient({ account: config.account, rootUrl: config.sheetsApiUrl }), config.target);
  const queuedBeforeFlush = stack.sync.items().map((i) => i.data);
  const sidsIn = (rows: string[][]) => {
    const at = (rows[0] ?? []).indexOf('execution_sid');
    return rows.slice(1).map((r) => r[at] ?? '').filter((sid) => sid !== '');
  };
  // Before flush: never an execution twice in the sheet (a queued one may be in the sheet too: at its own row).
  const inSheetBeforeFlush = sidsIn(stack.sheets.rows(stack.spreadsheetId, stack.tab));
  expect(inSheetBeforeFlush.length - new Set(inSheetBeforeFlush).size).toBe(0);
  const report = await flushQueue(table, syncStores(config.sync, config.target), config, { batchSize: 500, removalsPerSecond: 1000 });
  expect(report.duplicates).toEqual([]);
  expect(stack.sync.items()).toEqual([]);

  const rows = stack.sheets.rows(stack.spreadsheetId, stack.tab);
  const sids = sidsIn(rows);
  // Exactly once, every execution however it ended: no duplicate, no loss (blank rows, positions claimed and not used, are allowed).
  expect(sids.length - new Set(sids).size).toBe(0);
  expect(new Set(sids)).toEqual(new Set(results.map((r) => r.executionSid)));
  // Each row says how its execution ended.
  const header0 = rows[0] ?? [];
  const outcomeOf = new Map(rows.slice(1).map((r) => [r[header0.indexOf('execution_sid')], r[header0.indexOf('outcome')]]));
  for (const r of results) expect([r.executionSid, outcomeOf.get(r.executionSid)]).toEqual([r.executionSid, r.variables.outcome]);
  expect(new Set(results.map((r) => r.variables.outcome))).toContain('complete');

  // Personal data: names and IDs the respondents typed, and their WhatsApp addresses.
  const typed = new Set([...chats.flatMap((c) => c.piiTyped), ...jobs.map((j) => (j.trigger.kind === 'message' ? j.trigger.from : ''))].filter((v) => v.length >= 6));
  expect(typed.size).toBeGreaterThan(1000);
  const pii = new Set(sealedFields(flow));
  const header = rows[0] ?? [];
  for (const row of rows.slice(1)) {
    row.forEach((cell, i) => {
      if (pii.has(header[i] as string) && cell !== '') expect(cell.startsWith('ss1.')).toBe(true);
    });
  }
  const haystacks = [JSON.stringify(rows), JSON.stringify(queuedBeforeFlush), stack.functions.output()];
  // As a whole word: an 8-digit ID may occur by chance inside a hex SID.
  const found = (h: string, v: string) => h.includes(v) && new RegExp(`(?<![A-Za-z0-9])${v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9])`).test(h);
  const leaks = [...typed].filter((v) => haystacks.some((h) => found(h, v)));
  expect(leaks).toEqual([]);
}, 300_000);
