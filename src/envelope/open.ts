// Opening tokens with a keyring. One X25519 operation per response: the HPKE
// context of an encapsulation is cached, and all cells of a row share it.

import { createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import { setupBaseR, type HpkeContext } from '../crypto/hpke.js';
import { utf8Strict } from '../encoding.js';
import type { Keyring } from '../keys/keys.js';
import { EnvelopeError } from './errors.js';
import { fieldMatchesColumn, HPKE_INFO, parseToken, type ParsedToken } from './token.js';

export interface OpenedCell {
  readonly field: string;
  readonly value: string;
  readonly kid: string;
  readonly mode: 'sealed' | 'shared';
  /** Same for every cell sealed by one encrypt call. */
  readonly binding: string;
  /** The execution the cell is bound to (pkx/skx tokens); undefined for pk/sk tokens. */
  readonly execution: string | undefined;
}

export type CellResult = ({ readonly ok: true } & OpenedCell) | { readonly ok: false; readonly error: EnvelopeError };

export interface ResponseCell {
  readonly column: string;
  readonly token: string;
}

const AUTH_FAILED = 'authentication failed (wrong key, or the cell was altered)';

function describeKids(kids: Iterable<string>): string {
  const list = [...kids];
  return list.length === 0 ? 'none' : list.join(', ');
}

export class Opener {
  private readonly contexts = new Map<string, HpkeContext>();
  // KeyObjects spare node:crypto re-importing the raw key for every cell.
  private readonly sharedKeys = new Map<string, KeyObject>();
  /** X25519 operations done so far: one per response, whatever its number of cells. */
  derivations = 0;

  constructor(
    private readonly keyring: Keyring,
    private readonly cacheSize = 256,
  ) {}

  openToken(token: string): OpenedCell {
    const parsed = parseToken(token);
    const plaintext = parsed.mode === 'sealed' ? this.openSealed(parsed) : this.openShared(parsed);
    const value = utf8Strict(plaintext);
    if (value === undefined) throw new EnvelopeError('MALFORMED', 'the decrypted value is not UTF-8 text');
    return { field: parsed.field, value, kid: parsed.kid, mode: parsed.mode, binding: parsed.binding, execution: parsed.execution };
  }

  /**
   * Opens the sealed cells of one sheet row. Besides authenticating each cell,
   * it checks that each was sealed for the column it sits in, that all come
   * from the same response and, given the row's execution_sid, that bound cells
   * belong to that execution; a moved or swapped cell is reported, never
   * decrypted as the wrong answer.
   */
  openResponse(cells: readonly ResponseCell[], options: { checkFieldNames?: boolean; executionSid?: string | undefined } = {}): CellResult[] {
    const checkFieldNames = options.checkFieldNames ?? true;
    const { executionSid } = options;
    const results: CellResult[] = cells.map(({ column, token }) => {
      try {
        const opened = this.openToken(token);
        if (checkFieldNames && !fieldMatchesColumn(opened.field, column)) {
          return {
            ok: false,
            error: new EnvelopeError('FIELD_MISMATCH', `the cell was sealed for field "${opened.field}" but sits in column "${column}" (moved or swapped between columns)`),
          };
        }
        if (executionSid !== undefined && opened.execution !== undefined && opened.execution !== executionSid) {
          return {
            ok: false,
            error: new EnvelopeError('EXECUTION_MISMATCH', `the cell in column "${column}" belongs to execution ${opened.execution}, not to this row's execution_sid (the response was moved or copied between rows)`),
          };
        }
        return { ok: true, ...opened };
      } catch (error) {
        if (error instanceof EnvelopeError) return { ok: false, error };
        throw error;
      }
    });
    const counts = new Map<string, number>();
    for (const r of results) if (r.ok) counts.set(r.binding, (counts.get(r.binding) ?? 0) + 1);
    if (counts.size <= 1) return results;
    // Cells sealed by separate calls (a voice survey seals each answer as it is given) are one response when every cell is bound to this row's execution.
    if (executionSid !== undefined && results.every((r) => !r.ok || r.execution === executionSid)) return results;
    // The binding most cells share is the row's response; ties go to the leftmost cell.
    let rowBinding = '';
    let best = 0;
    for (const r of results) {
      if (r.ok && (counts.get(r.binding) ?? 0) > best) {
        best = counts.get(r.binding) ?? 0;
        rowBinding = r.binding;
      }
    }
    const rowColumns = cells.filter((_, i) => {
      const r = results[i];
      return r?.ok === true && r.binding === rowBinding;
    }).map((c) => `"${c.column}"`);
    return results.map((r, i) =>
      r.ok && r.binding !== rowBinding
        ? {
            ok: false,
            error: new EnvelopeError(
              'RESPONSE_MISMATCH',
              `column "${cells[i]?.column}" holds a cell from a different response than column ${rowColumns.join(', ')} of the same row (moved between rows)`,
            ),
          }
        : r,
    );
  }

  private openSealed(token: ParsedToken & { mode: 'sealed' }): Buffer {
    const pair = this.keyring.sealed.get(token.kid);
    if (!pair) {
      if (this.keyring.sealed.size === 0 && this.keyring.shared.size > 0) {
        throw new EnvelopeError('WRONG_MODE', `the cell was sealed with a public key (sealed mode, key id ${token.kid}); open it with the matching private key file, not a shared key`);
      }
      throw new EnvelopeError('UNKNOWN_KEY', `the cell was sealed for key id ${token.kid}, but the private keys given have key id ${describeKids(this.keyring.sealed.keys())}`);
    }
    const cacheKey = `${token.kid}.${token.binding}`;
    let context = this.contexts.get(cacheKey);
    if (!context) {
      try {
        context = setupBaseR(token.enc, pair, HPKE_INFO);
        this.derivations++;
      } catch {
        throw new EnvelopeError('AUTH_FAILED', AUTH_FAILED);
      }
      if (this.contexts.size >= this.cacheSize) {
        const oldest = this.contexts.keys().next().value;
        if (oldest !== undefined) this.contexts.delete(oldest);
      }
      this.contexts.set(cacheKey, context);
    }
    const plaintext = context.open(token.seq, token.aad, token.ct);
    if (!plaintext) throw new EnvelopeError('AUTH_FAILED', AUTH_FAILED);
    return plaintext;
  }

  private openShared(token: ParsedToken & { mode: 'shared' }): Buffer {
    let key = this.sharedKeys.get(token.kid);
    const raw = key ? undefined : this.keyring.shared.get(token.kid);
    if (raw) {
      key = createSecretKey(raw);
      this.sharedKeys.set(token.kid, key);
    }
    if (!key) {
      if (this.keyring.shared.size === 0 && this.keyring.sealed.size > 0) {
        throw new EnvelopeError('WRONG_MODE', `the cell was sealed with a shared key (shared mode, key id ${token.kid}); open it with that shared key file, not a private key`);
      }
      throw new EnvelopeError('UNKNOWN_KEY', `the cell was sealed for key id ${token.kid}, but the shared keys given have key id ${describeKids(this.keyring.shared.keys())}`);
    }
    const decipher = createDecipheriv('aes-256-gcm', key, token.nonce);
    decipher.setAAD(token.aad);
    decipher.setAuthTag(token.ct.subarray(token.ct.length - 16));
    const body = decipher.update(token.ct.subarray(0, token.ct.length - 16));
    try {
      return Buffer.concat([body, decipher.final()]);
    } catch {
      throw new EnvelopeError('AUTH_FAILED', AUTH_FAILED);
    }
  }
}
