// What a CSV transform needs to process a chunk, in a form that can be posted
// to a worker thread (plain data, no KeyObjects).

export type OnError = 'fail' | 'keep' | 'blank';

export interface ColumnPlan {
  readonly index: number;
  /** The header text, BOM removed. */
  readonly name: string;
}

export interface DecryptSetup {
  readonly op: 'decrypt';
  readonly privateKeyPems: readonly string[];
  readonly sharedKeys: readonly string[];
  readonly legacyKey?: Uint8Array;
  readonly columns: readonly ColumnPlan[];
  readonly width: number;
  readonly excelSafe: boolean;
  readonly onError: OnError;
  readonly checkFields: boolean;
}

export interface EncryptSetup {
  readonly op: 'encrypt';
  /** `sspk1.…` public key text, or a shared key (base64). */
  readonly recipientText: string;
  readonly columns: ReadonlyArray<{ readonly index: number; readonly name: string; readonly field: string }>;
  readonly width: number;
}

export type TransformSetup = DecryptSetup | EncryptSetup;

export interface CellFailure {
  /** 0-based data record index within the chunk; the driver turns it into a sheet row number. */
  readonly record: number;
  /** Empty for a failure of the record as a whole (CSV syntax). */
  readonly column: string;
  readonly code: string;
  readonly message: string;
}

export interface ChunkResult {
  readonly out: Uint8Array;
  readonly records: number;
  /** Failures in the chunk: all of them in fail mode (then exactly one), the first few otherwise. */
  readonly failures: readonly CellFailure[];
  readonly failureCounts: Readonly<Record<string, number>>;
  /** Records whose cell count differs from the header's (first few), and their number. */
  readonly ragged: ReadonlyArray<{ readonly record: number; readonly cells: number }>;
  readonly raggedCount: number;
  /** Legacy (unauthenticated) cells decrypted. */
  readonly legacyCells: number;
  /** Set in fail mode: processing stopped at failures[0]. */
  readonly stopped: boolean;
}
