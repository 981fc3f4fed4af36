// Builds the Functions bundle once, so every test exercises what would be deployed.
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, ['--import', 'tsx', 'tools/build.ts'], { stdio: 'inherit' });
}
