// sealed-survey report as a survey team runs it: the built CLI over a sheet
// export (sealed, and decrypted) and launch's tracker, and the page it writes
// opened in a real headless Chromium: what it shows, that it draws its charts,
// that it asks the network for nothing, and that no cell of the export but the
// system columns reaches it.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/dev/functions-server.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { launchChromium } from './helpers/chromium.js';
import { filesIn, toCsv } from './helpers/csv.js';
import { HEADER, responsesCsv, SENTINEL, sid, trackerCsv, type RowSpec, type TrackerSpec } from './helpers/round.js';

const T0 = Date.parse('2026-11-23T08:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
/** Case ids that would be noticed anywhere they leaked. */
const caseid = (n: number) => `CASE${SENTINEL}${n}`;

// 8 contacts: 7 launched (one still running), 1 failed at launch. Completions take 10 and 30 minutes.
const TRACKER: TrackerSpec[] = [
  ...[1, 2, 3, 4, 5, 6, 7].map((n): TrackerSpec => ({ caseid: caseid(n), status: 'launched', sid: sid(n), sentAt: at(n === 7 ? 1440 : 0) })),
  { caseid: caseid(8), status: 'failed', sentAt: at(0) },
];
const ROWS: RowSpec[] = [
  { sid: sid(1), at: at(10), outcome: 'complete' },
  { sid: sid(2), at: at(30), outcome: 'complete' },
  { sid: sid(3), at: at(40), outcome: 'declined', lastAnswered: 'q_consent' },
  { sid: sid(4), at: at(1500), outcome: 'no_reply' }, // the next UTC day
  { sid: sid(5), at: at(1), outcome: 'undeliverable' },
  { sid: sid(3), at: at(40), outcome: 'declined', lastAnswered: 'q_consent' }, // row 7 repeats row 4's execution
  { sid: sid(99), at: at(50), outcome: 'complete' }, // row 8: not in the tracker
];

let dir: string;
let browser: Browser | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'report-'));
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

function round(name: string, options: { sealed?: boolean; rows?: RowSpec[]; responses?: string } = {}): { folder: string; responses: string; tracker: string } {
  const folder = join(dir, name);
  mkdirSync(folder);
  const responses = join(folder, 'responses.csv');
  const tracker = join(folder, 'contacts.launch.csv');
  writeFileSync(responses, options.responses ?? responsesCsv((options.rows ?? ROWS).map((r) => ({ ...r, sealed: options.sealed ?? true }))));
  writeFileSync(tracker, trackerCsv(TRACKER));
  return { folder, responses, tracker };
}

const FLOW = join(PROJECT_ROOT, 'flows', 'whatsapp-survey.json');
const cli = (args: string[], cwd: string): Promise<CliResult> => runCli('sealed-survey', ['report', ...args], { cwd, env: { NO_COLOR: '1' } });

/** Everything of the export and the tracker that is not a count: none of it may be printed or written. */
const SECRETS = [SENTINEL, 'ss1.', '+254711', ...ROWS.map((r) => r.sid), ...TRACKER.map((t) => t.caseid)];

interface Visit {
  readonly page: Page;
  readonly requests: string[];
  readonly errors: string[];
}

/** Opens the page as a reader would (file://), recording every request beyond the page itself and every console error. */
async function open(file: string): Promise<Visit> {
  const page = await (browser as Browser).newPage();
  const url = pathToFileURL(file).href;
  const requests: string[] = [];
  const errors: string[] = [];
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    if (request.url() === url) void request.continue();
    else {
      requests.push(request.url());
      void request.abort();
    }
  });
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.setViewport({ width: 1100, height: 900 });
  await page.goto(url, { waitUntil: 'load' });
  return { page, requests, errors };
}

const tableRows = (page: Page, selector: string) => page.$$eval(`${selector} tbody tr`, (rows) => rows.map((r) => [...r.children].map((c) => (c.textContent ?? '').trim())));

describe('the page, in Chromium', () => {
  let visit: Visit;
  let html: string;

  beforeAll(async () => {
    const r = round('page');
    const out = join(r.folder, 'round.html');
    const result = await cli([r.responses, '--tracker', r.tracker, '--flow', FLOW, '-o', out], r.folder);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    html = readFileSync(out, 'utf8');
    visit = await open(out);
  });
  afterAll(async () => visit?.page.close());

  it('shows the funnel, completion rate and time to complete of the round', async () => {
    const { page } = visit;
    expect(await page.title()).toBe('Round report: responses.csv');
    expect(await tableRows(page, 'table.funnel')).toEqual([
      ['launched', '7', '100.0%', ''],
      ['delivered', '4', '57.1%', '57.1%'],
      ['answered', '3', '42.9%', '75.0%'],
      ['completed', '2', '28.6%', '66.7%'],
    ]);
    expect(await page.$eval('#completion-rate', (e) => e.textContent)).toBe('28.6%');
    // 10 and 30 minutes: median 20, p90 28 (PERCENTILE.INC).
    expect(await page.$eval('#median', (e) => e.textContent)).toBe('20.0 min');
    expect(await page.$eval('#p90', (e) => e.textContent)).toBe('28.0 min');
    const text = await page.$eval('body', (b) => b.innerText);
    expect(text).toContain('1 contact of the tracker was never launched');
    expect(text).toContain('2 launched executions have no row in the export yet');
  });

  it('shows outcomes and final status per UTC day, and where people stopped', async () => {
    const { page } = visit;
    const outcomes = await tableRows(page, 'table.by-day');
    // day, complete, declined, optout, incomplete, no_reply, hung_up, undeliverable, failed, all
    expect(outcomes.slice(0, 3)).toEqual([
      ['2026-11-23', '2', '1', '0', '0', '0', '0', '1', '0', '4'],
      ['2026-11-24', '0', '0', '0', '0', '1', '0', '0', '0', '1'],
      ['total', '2', '1', '0', '0', '1', '0', '1', '0', '5'],
    ]);
    // By the last question answered, in the flow's order (--flow): the two who never answered first.
    expect(await tableRows(page, 'table.stopped-after')).toEqual([
      ['before the first question', '2', '66.7%'],
      ['stopped after q_consent', '1', '33.3%'],
    ]);
    expect(await page.$eval('#stops ~ p.note + p.note', (e) => e.textContent)).toContain("in the order of the flow's questions");
    const stops = await tableRows(page, 'table.stops');
    expect(stops.map((r) => [r[0], r[1]])).toEqual([
      ['undeliverable', '1'],
      ['no_reply', '1'],
      ['declined', '1'],
      ['optout', '0'],
      ['incomplete', '0'],
      ['hung_up', '0'],
      ['failed', '0'],
    ]);
  });

  it('lists the warnings with their row numbers', async () => {
    const warnings = await visit.page.$$eval('ul.warnings li', (items) => items.map((i) => [i.getAttribute('data-warning'), (i.textContent ?? '').trim()]));
    expect(warnings.map((w) => w[0])).toEqual(['duplicate-execution', 'not-in-tracker']);
    expect(warnings[0]?.[1]).toMatch(/^2 rows that repeat .* Rows 4, 7\.$/);
    expect(warnings[1]?.[1]).toMatch(/^1 rows without a case id: .* Rows 8\.$/);
  });

  it('draws every chart (no canvas left blank)', async () => {
    const { page } = visit;
    expect(await page.$$eval('canvas', (c) => c.map((x) => x.id))).toEqual(['chart-funnel', 'chart-outcomes', 'chart-final', 'chart-timing', 'chart-stopped-after', 'chart-stops']);
    // Polls until each canvas has a painted pixel: fails (times out) if Chart.js never ran.
    await page.waitForFunction(
      `[...document.querySelectorAll('canvas')].every((canvas) => {
        const pixels = canvas.width === 0 ? undefined : canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data;
        if (!pixels) return false;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) return true;
        return false;
      })`,
      { timeout: 20_000 },
    );
  });

  it('asks the network for nothing and logs no error; its policy refuses a fetch', async () => {
    const { page, requests, errors } = visit;
    expect(requests).toEqual([]);
    expect(errors).toEqual([]);
    expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'sha256-[^']+' 'sha256-[^']+'; style-src 'unsafe-inline'; img-src data:;/);
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
    const fetched = await page.evaluate(() =>
      fetch('http://127.0.0.1:9/leak').then(
        () => 'fetched',
        () => 'refused',
      ),
    );
    expect(fetched).toBe('refused');
    expect(requests).toEqual([]);
    expect(errors.join('\n')).toMatch(/Content Security Policy/);
  });
});

describe('the page without a tracker, in Chromium', () => {
  it('starts the funnel at the executions with a row, says why there is no time to complete, and still draws', async () => {
    const r = round('no-tracker');
    const out = join(r.folder, 'round.html');
    expect((await cli([r.responses, '-o', out], r.folder)).code).toBe(0);
    const { page, requests, errors } = await open(out);
    try {
      expect(await tableRows(page, 'table.funnel')).toEqual([
        ['executions with a row', '6', '100.0%', ''],
        ['delivered', '5', '83.3%', '83.3%'],
        ['answered', '4', '66.7%', '80.0%'],
        ['completed', '3', '50.0%', '75.0%'],
      ]);
      expect(await page.$eval('#timing + p', (e) => e.textContent)).toContain('Time to complete needs the launch tracker (--tracker)');
      expect(await page.$$eval('canvas', (c) => c.map((x) => x.id))).toEqual(['chart-funnel', 'chart-outcomes', 'chart-final', 'chart-stopped-after', 'chart-stops']);
      await page.waitForFunction(`[...document.querySelectorAll('canvas')].every((c) => c.width > 0 && c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 === 3 && v !== 0))`, { timeout: 20_000 });
      expect(requests).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});

describe('an export from an older flow (no last_answered), in Chromium', () => {
  it('says the question is not recorded and keeps the stop points by outcome, on the page and in the terminal', async () => {
    const r = round('older', { responses: responsesCsv(ROWS, HEADER.filter((h) => h !== 'last_answered')) });
    const out = join(r.folder, 'round.html');
    const result = await cli([r.responses, '-o', out], r.folder);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\ntop stop point +undeliverable \(1\)/);
    expect(result.stdout).toMatch(/\nstop question +not recorded: the export has no last_answered column \(older flows do not publish it\)/);
    const { page, errors } = await open(out);
    try {
      expect(await page.$eval('#no-last-answered', (e) => e.textContent)).toContain('older flows do not record the question');
      expect(await page.$$('table.stopped-after')).toHaveLength(0);
      expect((await tableRows(page, 'table.stops')).map((row) => row[1])).toEqual(['1', '1', '1', '0', '0', '0', '0']);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});

describe('privacy: only the system columns are read', () => {
  for (const sealed of [true, false]) {
    it(`copies no other cell, from a ${sealed ? 'sealed' : 'decrypted'} export, into the page, the table or --json`, async () => {
      const r = round(sealed ? 'sealed' : 'decrypted', { sealed });
      expect(readFileSync(r.responses, 'utf8')).toContain(SENTINEL);
      const out = join(r.folder, 'round.html');
      const table = await cli([r.responses, '--tracker', r.tracker, '-o', out], r.folder);
      const json = await cli([r.responses, '--tracker', r.tracker, '-o', join(r.folder, 'again.html'), '--json'], r.folder);
      expect([table.code, json.code]).toEqual([0, 0]);
      for (const text of [readFileSync(out, 'utf8'), readFileSync(join(r.folder, 'again.html'), 'utf8'), table.stdout, table.stderr, json.stdout, json.stderr]) {
        for (const secret of SECRETS) expect(text).not.toContain(secret);
      }
      expect(statSync(out).mode & 0o777).toBe(0o644);
    });
  }
});

describe('the terminal', () => {
  it('prints an aligned table: funnel, completion rate, median/p90, top stop point, warnings', async () => {
    const r = round('table');
    const result = await cli([r.responses, '--tracker', r.tracker], r.folder);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines.slice(0, 5)).toEqual([
      'stage             executions   share',
      'launched                   7  100.0%',
      'delivered                  4   57.1%',
      'answered                   3   42.9%',
      'completed                  2   28.6%',
    ]);
    expect(result.stdout).toContain('completion rate   28.6%');
    expect(result.stdout).toContain('time to complete  median 20.0 min, p90 28.0 min (2 timed)');
    // Without --flow the stop points come most first: the two who answered nothing.
    expect(result.stdout).toContain('top stop point    before the first question (2)');
    expect(result.stdout).toMatch(/top stop outcome  undeliverable \(1\)/);
    expect(result.stdout).toContain('warnings          2 duplicate-execution, 1 not-in-tracker');
    // The default page: beside the export.
    expect(filesIn(r.folder)).toEqual(['contacts.launch.csv', 'responses.csv', 'responses.report.html']);
    expect(result.stderr).toContain(`report: ${join(r.folder, 'responses.report.html')}`);
  });

  it('--json gives the same numbers to scripts', async () => {
    const r = round('json');
    const result = await cli([r.responses, '--tracker', r.tracker, '--json'], r.folder);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { funnel: Record<string, number>; timing: { medianMs: number }; stoppedAfter: unknown };
    expect(report.funnel).toEqual({ launched: 7, delivered: 4, answered: 3, completed: 2, executions: 5, notLaunched: 1, noRowYet: 2, deliveredWithoutRow: null });
    expect(report.timing.medianMs).toBe(20 * 60_000);
    expect(report.stoppedAfter).toEqual({
      orderedBy: 'count',
      rows: [
        { question: '', label: 'before the first question', count: 2 },
        { question: 'q_consent', label: 'stopped after q_consent', count: 1 },
      ],
    });
  });

  it("--monitor adds the executions still running whose opener monitor saw delivered; it needs --tracker", async () => {
    const r = round('monitor');
    const monitor = join(r.folder, 'contacts.monitor.csv');
    // Cases 6 and 7 have no row: 6 was read, 7 only sent.
    writeFileSync(monitor, toCsv([['caseid', 'state', 'message_status'], [caseid(6), 'read', 'read'], [caseid(7), 'sent', 'sent'], [caseid(5), 'delivered', 'delivered']]));
    const result = await cli([r.responses, '--tracker', r.tracker, '--monitor', monitor, '--json', '-o', join(r.folder, 'm.html')], r.folder);
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as { funnel: Record<string, number> }).funnel).toMatchObject({ launched: 7, delivered: 5, deliveredWithoutRow: 1, answered: 3 });
    expect(readFileSync(join(r.folder, 'm.html'), 'utf8')).toContain('Of those, 1 count as delivered: monitor saw their opener delivered or read.');
    const alone = await cli([r.responses, '--monitor', monitor, '-o', join(r.folder, 'n.html')], r.folder);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--monitor needs --tracker');
  });

  it('--help shows examples and exit codes', async () => {
    const result = await cli(['--help'], dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Examples:');
    expect(result.stdout).toContain('$ sealed-survey report responses.csv --tracker contacts.launch.csv');
    expect(result.stdout).toMatch(/Exit status: 0 .*\n1 .*2 bad options/s);
  });
});

describe('tools/ensure-chromium.ts (npm test\'s pretest)', () => {
  const ensure = (env: Record<string, string>) => spawnSync(process.execPath, ['--import', 'tsx', 'tools/ensure-chromium.ts'], { cwd: PROJECT_ROOT, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });

  it('is quiet when the browser is there', () => {
    const found = ensure({});
    expect(found.stderr).toBe('');
    expect(found.status).toBe(0);
  });

  it('says what to do when CHROMIUM_PATH points at nothing, and installs nothing', () => {
    const missing = ensure({ CHROMIUM_PATH: join(dir, 'no-such-chromium') });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('CHROMIUM_PATH is set but is not an executable file');
    expect(missing.stderr).not.toContain('installing');
  });
});

describe('bad input: a clear message, exit 1 or 2, nothing written', () => {
  async function fails(name: string, args: (r: ReturnType<typeof round>) => string[], code: number, message: RegExp, responses?: string): Promise<void> {
    const r = round(name, responses === undefined ? {} : { responses });
    const before = filesIn(r.folder);
    const result = await cli(args(r), r.folder);
    expect(result.stderr).toMatch(message);
    expect(result.code).toBe(code);
    expect(result.stdout).toBe('');
    expect(filesIn(r.folder)).toEqual(before);
    for (const secret of SECRETS) expect(result.stderr).not.toContain(secret);
  }

  it('a missing export', () => fails('missing', (r) => [join(r.folder, 'nope.csv'), '-o', join(r.folder, 'x.html')], 1, /the responses export .*nope\.csv does not exist: check the path/));

  it('an export without execution_sid', () =>
    fails('no-sid', (r) => [r.responses, '-o', join(r.folder, 'x.html')], 1, /has no "execution_sid" column: export the survey's sheet as it is/, toCsv([HEADER.filter((h) => h !== 'execution_sid'), HEADER.filter((h) => h !== 'execution_sid').map(() => `${SENTINEL}x`)])));

  it('a file without a header for an export', () =>
    fails('headerless', (r) => [r.responses, '-o', join(r.folder, 'x.html')], 1, /has no "received_at", "execution_sid", "outcome" columns/, toCsv([[`${SENTINEL}a`, `${SENTINEL}b`], [`${SENTINEL}c`, `${SENTINEL}d`]])));

  it('a tracker that is not a tracker (the contact list)', async () => {
    const r = round('not-tracker');
    writeFileSync(join(r.folder, 'contacts.csv'), toCsv([['caseid', 'phone'], [caseid(1), '+254711000001']]));
    const result = await cli([r.responses, '--tracker', join(r.folder, 'contacts.csv'), '-o', join(r.folder, 'x.html')], r.folder);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/the tracker .*contacts\.csv has no "status", "execution_sid", "error", "sent_at" columns/);
    expect(filesIn(r.folder)).toEqual(['contacts.csv', 'contacts.launch.csv', 'responses.csv']);
  });

  it('an existing page without --force (exit 2, left as it was); --force replaces it', async () => {
    const r = round('exists');
    const out = join(r.folder, 'round.html');
    writeFileSync(out, 'keep me');
    const refused = await cli([r.responses, '-o', out], r.folder);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('already exists; add --force to replace it');
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    const forced = await cli([r.responses, '-o', out, '--force'], r.folder);
    expect(forced.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/^<!doctype html>/);
    expect(filesIn(r.folder)).toEqual(['contacts.launch.csv', 'responses.csv', 'round.html']);
  });

  it('a page name that is not .html, and an unknown option: exit 2', async () => {
    await fails('bad-out', (r) => [r.responses, '-o', join(r.folder, 'round.csv')], 2, /give a name ending in \.html/);
    await fails('bad-option', (r) => [r.responses, '--trackr', r.tracker], 2, /unknown option '--trackr'/);
  });

  it('a folder that cannot take the page: exit 1, no partial file', () => fails('no-folder', (r) => [r.responses, '-o', join(r.folder, 'missing', 'round.html')], 1, /cannot write .*round\.html \(ENOENT\).*nothing was written/));
});
