// A recording could not be decrypted or its details could not be read. The
// message says what is wrong and how to fix it; it never quotes key material
// or recording content. Shown as it is by the CLI (common.ts FRIENDLY).

export class RecordingError extends Error {
  override readonly name = 'RecordingError';
}
