// Twilio error 82006: a Function's context — "account metadata, domain name,
// path and Environment variables stored as a JSON string" — must stay under
// 3 KB, or invocations may fail. Measured before deploying, from what the
// Functions will see, with the account fields at their real lengths.

export const CONTEXT_LIMIT_BYTES = 3 * 1024;

/** The context as Twilio builds it, values replaced by same-length filler where they are secrets. */
export function contextBytes(variables: Readonly<Record<string, string>>, account: { readonly accountSid: string; readonly domainName: string; readonly includeCredentials: boolean }): number {
  const context = {
    ACCOUNT_SID: account.accountSid,
    // The auth token is 32 hex characters; only its length matters here.
    ...(account.includeCredentials ? { AUTH_TOKEN: 'x'.repeat(32) } : {}),
    DOMAIN_NAME: account.domainName,
    PATH: '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin',
    SERVICE_SID: `ZS${'0'.repeat(32)}`,
    ENVIRONMENT_SID: `ZE${'0'.repeat(32)}`,
    ...variables,
  };
  return Buffer.byteLength(JSON.stringify(context), 'utf8');
}
