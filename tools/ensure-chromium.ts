// Makes sure Debian's chromium is on the machine before the tests run: the
// report's page is tested in a real headless browser (tests/report.test.ts).
// Found as CHROMIUM_PATH, `chromium` or `chromium-browser`; when absent and we
// are root with apt-get (CI containers), installed quietly; otherwise exit 1
// saying how to install it.
import { execFileSync, spawnSync } from 'node:child_process';
import { findChromium } from '../tests/helpers/chromium.js';

if (findChromium() !== undefined) process.exit(0);
if (process.env.CHROMIUM_PATH !== undefined && process.env.CHROMIUM_PATH !== '') {
  // Asked for a given browser: installing another would not be what was asked.
  process.stderr.write('ensure-chromium: CHROMIUM_PATH is set but is not an executable file: point it at Chromium, or unset it to use chromium from PATH\n');
  process.exit(1);
}

const isRoot = process.getuid?.() === 0;
const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
if (!isRoot || !hasApt) {
  process.stderr.write(
    "ensure-chromium: the report's tests need a Chromium and none was found (CHROMIUM_PATH, chromium, chromium-browser).\n" +
      '  On Debian or Ubuntu: sudo apt-get install --no-install-recommends chromium\n' +
      '  Elsewhere: install Chromium and set CHROMIUM_PATH to its executable.\n',
  );
  process.exit(1);
}

process.stderr.write("ensure-chromium: installing Debian's chromium for the report's browser tests (apt-get, once)\n");
try {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], { stdio: ['ignore', 'ignore', 'inherit'], env });
} catch {
  process.stderr.write('ensure-chromium: apt-get could not install chromium (see above); install it by hand: apt-get install --no-install-recommends chromium\n');
  process.exit(1);
}
if (findChromium() === undefined) {
  process.stderr.write('ensure-chromium: chromium was installed but is not on PATH; set CHROMIUM_PATH to its executable\n');
  process.exit(1);
}
