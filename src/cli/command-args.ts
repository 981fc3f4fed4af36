// How to start a built command exactly as its installed shim would: with the
// Node flags of its shebang line (tests and benchmarks spawn them this way).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function commandArgs(distCliDir: string, name: string): string[] {
  const file = join(distCliDir, `${name}.js`);
  const shebang = readFileSync(file, 'utf8').split('\n', 1)[0] ?? '';
  const flags = shebang.replace(/^#!\s*\/usr\/bin\/env\s+(-S\s+)?node\s*/, '').split(/\s+/).filter((f) => f.startsWith('--'));
  return [...flags, file];
}
