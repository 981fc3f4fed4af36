// Downloads the corpus flows whose licence does not let us vendor them
// (tests/corpus/sources.json, "fetchOnly"), each at its recorded commit, into
// a folder of your choice. Nothing is written unless every flow downloads and
// parses as a Studio flow. The test suite never needs these.
//
//   npx tsx scripts/fetch-corpus.ts --out /tmp/corpus-fetched

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseFlow } from '../src/flow/definition.js';
import { sources } from '../tests/corpus/harness.js';

const USAGE = 'usage: npx tsx scripts/fetch-corpus.ts --out DIR   (downloads the flows listed under "fetchOnly" in tests/corpus/sources.json into DIR)';

async function main(): Promise<number> {
  let out: string | undefined;
  try {
    const { values } = parseArgs({ options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    out = values.out;
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  if (!out) {
    console.error(`--out is missing: say which folder the flows go to\n${USAGE}`);
    return 2;
  }

  const downloaded: Array<{ file: string; text: string }> = [];
  for (const s of sources().fetchOnly) {
    const url = `https://raw.githubusercontent.com/${s.repository}/${s.commit}/${s.path.split('/').map(encodeURIComponent).join('/')}`;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    } catch (error) {
      console.error(`${s.repository} ${s.path}: cannot reach raw.githubusercontent.com (${error instanceof Error ? error.name : 'error'}); check the network and run again. Nothing was written.`);
      return 1;
    }
    if (!res.ok) {
      console.error(`${s.repository} ${s.path} at ${s.commit.slice(0, 7)}: GitHub answered HTTP ${res.status}; the repository or commit may be gone: remove the entry from tests/corpus/sources.json. Nothing was written.`);
      return 1;
    }
    const text = await res.text();
    try {
      parseFlow(text, `${s.repository}/${s.path}`);
    } catch (error) {
      console.error(`${error instanceof Error ? error.message : String(error)}. Nothing was written.`);
      return 1;
    }
    downloaded.push({ file: s.file, text });
  }
  mkdirSync(out, { recursive: true });
  for (const d of downloaded) writeFileSync(join(out, d.file), d.text);
  console.log(`${downloaded.length} flows written to ${out}; their licences do not allow redistribution: keep them out of git`);
  return 0;
}

process.exitCode = await main();
