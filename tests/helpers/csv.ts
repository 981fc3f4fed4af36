import { readdirSync } from 'node:fs';

/** Minimal RFC 4180 writer, quoting as Google Sheets does (only when needed). */
export function toCsv(rows: readonly (readonly string[])[], eol = '\n'): string {
  return rows.map((r) => r.map((c) => (/[",\r\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(',')).join(eol) + eol;
}

/** Files in a folder, to prove a failed run left nothing behind (no output, no .partial). */
export function filesIn(dir: string): string[] {
  return readdirSync(dir).sort();
}
