// Which flows deploy and doctor take without --flow: flows/*.json (the
// publishable declarations live in flows/columns/), less the flows that take
// calls and no messages. One environment holds one survey (one sheet, one
// header), and --number wires a messaging sender: a voice survey (the
// shipped flows/voice-survey.json) is deployed with --flow, to an
// environment of its own.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseFlow, takesOnlyCalls } from '../flow/definition.js';

/** A file that does not parse is kept, so deploy reports it. */
function callsOnly(path: string): boolean {
  try {
    return takesOnlyCalls(parseFlow(readFileSync(path, 'utf8'), path));
  } catch {
    return false;
  }
}

export function defaultFlowFiles(root = '.'): string[] {
  try {
    return readdirSync(join(root, 'flows'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => join('flows', f))
      .filter((f) => !callsOnly(join(root, f)));
  } catch {
    return [];
  }
}
