// The Google Sheets client: @googleapis/sheets with google-auth-library's
// service-account JWT flow. One client per credentials and root URL per
// process, so a warm Function instance reuses its access token.

import { createHash } from 'node:crypto';
import { sheets, type sheets_v4 } from '@googleapis/sheets';
import { JWT } from 'google-auth-library';
import { z } from 'zod';

/** Where google-auth-library sends the JWT-bearer grant; fixed in the library. */
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
export const SHEETS_SCOPE = 'https://www.googleapis.com/auth/spreadsheets';

export class SheetsConfigError extends Error {
  override readonly name = 'SheetsConfigError';
}

const ServiceAccountSchema = z.object({
  type: z.literal('service_account'),
  client_email: z.string().min(3),
  private_key: z.string().includes('PRIVATE KEY'),
  private_key_id: z.string().optional(),
  token_uri: z.url().optional(),
});
export type ServiceAccount = z.infer<typeof ServiceAccountSchema>;

/**
 * Parses a service-account key JSON. Messages name the problem and the fix,
 * never the content (it holds a private key).
 */
export function parseServiceAccount(text: string, source: string): ServiceAccount {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SheetsConfigError(`${source} is not JSON: use the key file Google Cloud downloads for the service account (IAM → Service accounts → Keys → Add key → JSON)`);
  }
  const parsed = ServiceAccountSchema.safeParse(json);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => String(i.path[0] ?? 'type')))].join(', ');
    throw new SheetsConfigError(`${source} is not a Google service-account key (check ${fields}): download a JSON key for the service account from Google Cloud`);
  }
  return parsed.data;
}

export interface SheetsClientOptions {
  readonly account: ServiceAccount;
  /** Root URL of the Sheets API, e.g. a local `sealed-survey sheets-server`; Google when unset. */
  readonly rootUrl?: string | undefined;
}

const clients = new Map<string, sheets_v4.Sheets>();

function authFor(account: ServiceAccount): JWT {
  const auth = new JWT({
    email: account.client_email,
    key: account.private_key,
    ...(account.private_key_id ? { keyId: account.private_key_id } : {}),
    scopes: [SHEETS_SCOPE],
  });
  const tokenUri = account.token_uri;
  if (tokenUri && tokenUri !== GOOGLE_TOKEN_URL) {
    // The library always posts the grant to Google; honour the key's token_uri.
    auth.transporter.interceptors.request.add({
      resolved: async (config) => {
        if (String(config.url) === GOOGLE_TOKEN_URL) config.url = new URL(tokenUri);
        return config;
      },
    });
  }
  return auth;
}

export function sheetsClient(options: SheetsClientOptions): sheets_v4.Sheets {
  const rootUrl = options.rootUrl ? options.rootUrl.replace(/\/*$/, '/') : undefined;
  const cacheKey = createHash('sha256')
    .update(JSON.stringify([options.account.client_email, options.account.private_key, options.account.token_uri, rootUrl]))
    .digest('hex');
  let client = clients.get(cacheKey);
  if (!client) {
    client = sheets({ version: 'v4', auth: authFor(options.account), ...(rootUrl ? { rootUrl } : {}) });
    clients.set(cacheKey, client);
  }
  return client;
}
