// Which code decrypts cells. The fast path (the default) opens the ordinary
// cases with batched AES (envelope/legacy-batch.ts for legacy cells,
// envelope/token-fast.ts with crypto/gcm-fast.ts for ss1 tokens) and hands everything else
// to the reference path, the straightforward per-cell code, which alone
// decides and words every error. The reference path stays selectable, with
// SEALED_SURVEY_DECRYPT_PATH=reference, for the differential test
// (tests/decrypt-csv-differential.test.ts) and for anyone who doubts a result.

export type DecryptPath = 'fast' | 'reference';

export const DECRYPT_PATH_VARIABLE = 'SEALED_SURVEY_DECRYPT_PATH';

/** The path the environment asks for; undefined for a value that is not one. */
export function decryptPathFrom(env: NodeJS.ProcessEnv): DecryptPath | undefined {
  const value = env[DECRYPT_PATH_VARIABLE];
  if (value === undefined || value === '' || value === 'fast') return 'fast';
  return value === 'reference' ? 'reference' : undefined;
}
