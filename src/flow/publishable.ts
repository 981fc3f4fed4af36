// The publishable declaration: the survey team's list of the columns a flow
// may publish in plaintext, each with the reason that is acceptable. It is a
// file of its own, <flow dir>/columns/<flow name>.json, because Studio's
// editor rewrites a flow's widgets on export and import, and because
// `lint flows/*.json` must not take it for a flow.
//
//   { "publishable": { "age": "Age in whole years; …" } }

import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';

/** What a declaration skeleton says in place of a reason; refused as a reason, so it cannot be committed unedited. */
export const REASON_PLACEHOLDER = '<why publishing it in plaintext is acceptable>';

const Reason = z
  .string()
  .trim()
  .min(1, 'the reason is empty: say why publishing this column in plaintext is acceptable')
  .refine((r) => !/^<.*>$/.test(r), 'the reason is still a placeholder: replace it with why publishing this column in plaintext is acceptable');

const Declaration = z.strictObject({
  $comment: z.string().optional(),
  publishable: z.record(z.string().min(1, 'a column name is empty'), Reason),
});

export type DeclarationRead =
  | { readonly status: 'missing' }
  | { readonly status: 'invalid'; readonly problems: readonly string[] }
  | { readonly status: 'read'; readonly publishable: Readonly<Record<string, string>> };

/** Where the declaration of a flow file lives: flows/whatsapp-survey.json → flows/columns/whatsapp-survey.json. */
export function declarationPath(flowFile: string): string {
  return join(dirname(flowFile), 'columns', `${basename(flowFile).replace(/\.json$/i, '')}.json`);
}

/** Reads and validates a declaration; problems name the file, the place in it and the fix. */
export function readDeclaration(file: string): DeclarationRead {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing' };
    return { status: 'invalid', problems: [`cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}): make it a readable file`] };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { status: 'invalid', problems: [`${file} is not JSON (${(error as Error).message}): write it as ${skeleton(['<column>'])}`] };
  }
  const parsed = Declaration.safeParse(json);
  if (!parsed.success) {
    return {
      status: 'invalid',
      problems: parsed.error.issues.map((issue) => {
        const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)';
        const unknownKeys = issue.code === 'unrecognized_keys' ? `; the file holds only "publishable" (and an optional "$comment")` : '';
        return `${file}: ${where}: ${issue.message}${unknownKeys}`;
      }),
    };
  }
  return { status: 'read', publishable: parsed.data.publishable };
}

/** The text of a declaration for these columns, reasons to be written in. */
export function skeleton(columns: readonly string[]): string {
  return JSON.stringify({ publishable: Object.fromEntries(columns.map((c) => [c, REASON_PLACEHOLDER])) });
}
