import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/dev/functions-server.js';

it('npm run demo: answers are sealed by the local Function, refused unsigned, and opened with the private key', () => {
  const res = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 60_000 });
  expect(res.status, res.stderr).toBe(0);
  expect(res.stdout).toMatch(/full_name\s+ss1\.pk\./);
  expect(res.stdout).toContain('refused: HTTP 403');
  const opened = res.stdout.slice(res.stdout.indexOf('4. On the analyst'));
  expect(opened).toContain('Wanjiru Achieng Otieno');
  expect(opened).toMatch(/respondent_id rid1_[0-9a-f]{24}/);
});
