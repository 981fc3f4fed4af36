// Where the system's Chromium is: CHROMIUM_PATH, else `chromium` or
// `chromium-browser` on PATH (Debian's package). puppeteer-core downloads none.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findChromium(): string | undefined {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv !== undefined && fromEnv !== '') return executable(fromEnv) ? fromEnv : undefined;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const name of ['chromium', 'chromium-browser']) {
      const file = join(dir, name);
      if (dir !== '' && executable(file)) return file;
    }
  }
  return undefined;
}

/** Flags for a headless run in a container: no sandbox when root (Chromium refuses to start sandboxed as root). */
export function chromiumArgs(): string[] {
  return [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check'];
}

/** The system's Chromium, headless, through puppeteer-core; throws saying how to install it when there is none. */
export async function launchChromium(): Promise<import('puppeteer-core').Browser> {
  const executablePath = findChromium();
  if (executablePath === undefined) throw new Error("no Chromium: run `npx tsx tools/ensure-chromium.ts` (npm test's pretest does), or install Debian's chromium, or set CHROMIUM_PATH");
  const { default: puppeteer } = await import('puppeteer-core');
  return puppeteer.launch({ executablePath, headless: true, args: chromiumArgs() });
}
