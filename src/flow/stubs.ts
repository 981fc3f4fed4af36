// Offline by default: what an HTTP request, or a Run Function that is not one
// of this project's Functions, answers in a simulation. A stub file maps URLs
// (exactly, or the longest matching prefix) to an answer:
//   { "https://api.example.org/lookup": { "status": 200, "body": { "ok": true } } }

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { PROJECT_ROOT } from '../dev/functions-server.js';
import { FlowError } from './definition.js';

const StubSchema = z.object({
  status: z.number().int().min(100).max(599).default(200),
  content_type: z.string().optional(),
  body: z.unknown().optional(),
});
const StubFileSchema = z.record(z.string().url(), StubSchema);

export interface StubAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}
export type Stubs = ReadonlyMap<string, StubAnswer>;

function answerOf(stub: z.infer<typeof StubSchema>): StubAnswer {
  const text = typeof stub.body === 'string';
  return {
    status: stub.status,
    contentType: stub.content_type ?? (text ? 'text/plain' : 'application/json'),
    body: text ? (stub.body as string) : JSON.stringify(stub.body ?? {}),
  };
}

export function readStubs(path: string): Stubs {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new FlowError(`cannot read the stubs file ${path} (${error instanceof SyntaxError ? 'not JSON' : 'missing or unreadable'}): it is a JSON object like {"https://api.example.org/lookup": {"status": 200, "body": {"ok": true}}}`);
  }
  const parsed = StubFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FlowError(`${path}: ${issue?.path.length ? `"${issue.path.join('.')}"` : 'the file'} is not valid (${issue?.message}); each key is a URL and each value {"status"?: 200, "content_type"?, "body"?}`);
  }
  return new Map(Object.entries(parsed.data).map(([url, stub]) => [url, answerOf(stub)]));
}

const DEFAULT_ANSWER: StubAnswer = { status: 200, contentType: 'application/json', body: '{}' };

/** The stub for a URL: its own entry, else the longest prefix entry, else 200 with an empty JSON object. */
export function stubFor(stubs: Stubs | undefined, url: string): StubAnswer {
  const bare = url.split('?')[0] as string;
  const exact = stubs?.get(url) ?? stubs?.get(bare);
  if (exact) return exact;
  const prefix = [...(stubs?.keys() ?? [])].filter((k) => url.startsWith(k)).sort((a, b) => b.length - a.length)[0];
  return prefix ? (stubs?.get(prefix) as StubAnswer) : DEFAULT_ANSWER;
}

/** Where a URL points, without its query string (which may carry answers), for transcripts. */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return url.split('?')[0] as string;
  }
}

let projectPaths: readonly string[] | undefined;
/** The paths of this project's Functions (functions/<name>[.protected].ts → /<name>), which simulate calls for real. */
export function projectFunctionPaths(): readonly string[] {
  projectPaths ??= readdirSync(join(PROJECT_ROOT, 'functions'))
    .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
    .map((f) => `/${f.replace(/\.(ts|js)$/, '').replace(/\.(protected|private)$/, '')}`);
  return projectPaths;
}
