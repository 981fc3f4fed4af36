// Builds the Functions bundle once, so every test exercises what would be deployed.
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  // For running one test file that needs no build while something else owns build/.
  if (process.env.SKIP_BUILD === '1') return;
  execFileSync(process.execPath, ['--import', 'tsx', 'tools/build.ts'], { stdio: 'inherit' });
}
