// docs/report.png: the report of a demo-like round (tests/helpers/round.ts,
// last_answered included), rendered by the real command with the WhatsApp
// flow's question order and shot in the system's Chromium.
//   npx tsx scripts/report-screenshot.ts
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from '../src/dev/functions-server.js';
import { launchChromium } from '../tests/helpers/chromium.js';
import { sampleRound } from '../tests/helpers/round.js';
import { main } from '../src/cli/sealed-survey.js';

const dir = mkdtempSync(join(tmpdir(), 'report-shot-'));
try {
  const round = sampleRound();
  writeFileSync(join(dir, 'responses.csv'), round.responses);
  writeFileSync(join(dir, 'contacts.launch.csv'), round.tracker);
  const page = join(dir, 'round-1.html');
  const code = await main(['node', 'sealed-survey', 'report', join(dir, 'responses.csv'), '--tracker', join(dir, 'contacts.launch.csv'), '--flow', join(PROJECT_ROOT, 'flows', 'whatsapp-survey.json'), '-o', page]);
  if (code !== 0) throw new Error(`report exited ${code}`);
  const browser = await launchChromium();
  try {
    const tab = await browser.newPage();
    await tab.setViewport({ width: 1100, height: 900, deviceScaleFactor: 1 });
    await tab.goto(pathToFileURL(page).href, { waitUntil: 'load' });
    await tab.screenshot({ path: join(PROJECT_ROOT, 'docs', 'report.png'), fullPage: true });
  } finally {
    await browser.close();
  }
  process.stdout.write('docs/report.png written\n');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
