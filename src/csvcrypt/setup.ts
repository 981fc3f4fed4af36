// What a CSV transform needs to process a chunk, in a form that can be posted
// to a worker thread (plain data, no KeyObjects).

import type { Delimiter } from '../csv/scan.js';
import type { DecryptPath } from './decrypt-path.js';

export type OnError = 'fail' | 'keep' | 'blank';

export interface ColumnPlan {
  readonly index: number;
  /** The header text, BOM removed. */
  readonly name: string;
}

export interface DecryptSetup {
  readonly op: 'decrypt';
  readonly delimiter: Delimiter;
  readonly privateKeyPems: readonly string[];
  readonly sharedKeys: readonly string[];
  readonly legacyKey?: Uint8Array;
  /** requests_to_twilio_v2 private keys (base64url of 32 bytes), for `v2:` cells. */
  readonly ipaV2Keys?: readonly string[];
  /** Decrypt legacy cells even in columns that also hold ss1 tokens (FORMAT.md §7). */
  readonly allowLegacyCells: boolean;
  readonly columns: readonly ColumnPlan[];
  /** Index of the execution_sid column, -1 when the file has none. */
  readonly executionColumn: number;
  readonly width: number;
  readonly excelSafe: boolean;
  readonly onError: OnError;
  readonly checkFields: boolean;
  /** Which code decrypts (decrypt-path.ts); undefined = the fast path. */
  readonly decryptPath?: DecryptPath;
}

export interface EncryptSetup {
  readonly op: 'encrypt';
  readonly delimiter: Delimiter;
  /** `sspk1.…` public key text, or a shared key (base64). */
  readonly recipientText: string;
  readonly columns: ReadonlyArray<{ readonly index: number; readonly name: string; readonly field: string }>;
  readonly width: number;
  /** Re-seal: every non-empty cell of the columns must be a `v2:` token opened with one of these keys (base64url). */
  readonly openIpaV2Keys?: readonly string[];
}

export type TransformSetup = DecryptSetup | EncryptSetup;

export interface CellFailure {
  /** 0-based data record index within the chunk; the driver makes it absolute. */
  readonly record: number;
  /** Empty for a failure of the record as a whole (CSV syntax). */
  readonly column: string;
  readonly code: string;
  readonly message: string;
  /** EXECUTION_MISMATCH: the execution the row's tokens are bound to, to find the row they belong in. */
  readonly execution?: string;
}

export interface ChunkResult {
  readonly out: Uint8Array;
  readonly records: number;
  /** The first few failures in the chunk. */
  readonly failures: readonly CellFailure[];
  readonly failureCounts: Readonly<Record<string, number>>;
  /** Records whose cell count differs from the header's (first few), and their number. */
  readonly ragged: ReadonlyArray<{ readonly record: number; readonly cells: number }>;
  readonly raggedCount: number;
  /** Legacy (unauthenticated) cells decrypted. */
  readonly legacyCells: number;
  /** requests_to_twilio_v2 cells opened (they carry no column or row binding). */
  readonly ipaV2Cells?: number;
  /**
   * Decrypt: per planned column, the first record of the chunk holding an ss1
   * token and the first holding a decrypted legacy cell (-1: none).
   */
  readonly firstToken: readonly number[];
  readonly firstLegacy: readonly number[];
  /** Decrypt: per planned column, the first record holding a `v2:` cell (also counted in firstLegacy), -1: none. */
  readonly firstIpaV2?: readonly number[];
  /** Decrypt: per record, fingerprints of its response and of its execution_sid (see row-ledger.ts). */
  readonly rowKeys?: Uint32Array;
  /** Set in fail mode: processing stopped at `stoppedBy`. */
  readonly stopped: boolean;
  readonly stoppedBy?: CellFailure;
}
