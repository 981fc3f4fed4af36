// A Function's configuration is missing or wrong. The guard in runtime.ts
// answers every such error as 500 CONFIG_INVALID, wherever it was thrown
// (keys, Google, Sync, Twilio credentials). A leaf module, so any layer can
// throw it without importing the Functions runtime.

/**
 * `configVariable` names the environment variable (or asset) to fix; the
 * message says what is wrong and how to fix it, and never quotes its value.
 */
export class ConfigError extends Error {
  override readonly name: string = 'ConfigError';
  constructor(
    message: string,
    readonly configVariable: string,
  ) {
    super(message);
  }
}

/** The variable an error blames: any Error with a non-empty string `configVariable` (a ConfigError, or another module's own class). */
export function configVariableOf(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const variable = (error as { configVariable?: unknown }).configVariable;
  return typeof variable === 'string' && variable !== '' ? variable : undefined;
}
