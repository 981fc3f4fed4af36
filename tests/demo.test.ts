import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/dev/functions-server.js';

it('npm run demo: scripted respondents through the flow, only tokens in the sheet, plaintext only after decrypt-csv', () => {
  const t0 = Date.now();
  const res = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 60_000 });
  expect(res.status, res.stderr).toBe(0);
  expect(Date.now() - t0).toBeLessThan(60_000);
  const out = res.stdout;
  const sheet = out.slice(out.indexOf('3. The Google Sheet'), out.indexOf('4. Exported'));
  const decrypted = out.slice(out.indexOf('4. Exported'), out.indexOf('What you saw'));
  const names = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'flows', 'answers', 'demo.json'), 'utf8')) as Array<{ replies: string[] }>)
    .flatMap((r) => r.replies)
    .filter((reply) => /^\p{L}+ \p{L}+ \p{L}+$/u.test(reply));
  expect(names.length).toBeGreaterThan(2);
  expect(sheet).toMatch(/ss1\.pk\.[0-9a-f]{8}\.full_name/);
  for (const name of names) expect(sheet).not.toContain(name.slice(0, 15));
  // The decrypted table shows the names the respondents typed.
  expect(names.filter((name) => decrypted.includes(name.slice(0, 15))).length).toBeGreaterThanOrEqual(3);
  expect(out).toMatch(/4 completed \(stored by publish\), 1 ended early, 0 failed/);
});
