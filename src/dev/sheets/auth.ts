// Google's OAuth JWT-bearer grant, as far as a local server needs it: any
// well-formed service-account JWT gets a bearer token (signatures are not
// checked), and API requests must carry a token issued here.

import { generateKeyPair as generateKeyPairCb, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { z } from 'zod';
import { ApiError } from './errors.js';

const SHEETS_SCOPE = 'https://www.googleapis.com/auth/spreadsheets';
const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const TOKEN_LIFETIME_S = 3600;

function base64urlJson(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

const ClaimsSchema = z.object({ iss: z.string().min(1), scope: z.string(), exp: z.number() });

/** The service account (iss) of a well-formed JWT-bearer assertion, or what is wrong with it. */
function assertionIssuer(assertion: string | null): { iss: string } | { problem: string } {
  if (!assertion) return { problem: 'Missing required parameter: assertion' };
  const parts = assertion.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) return { problem: 'Invalid JWT: expected three base64url parts separated by dots.' };
  const header = base64urlJson(parts[0] as string) as { alg?: unknown } | undefined;
  if (typeof header !== 'object' || header === null || header.alg !== 'RS256') return { problem: 'Invalid JWT: the header must be JSON with "alg": "RS256".' };
  const claims = ClaimsSchema.safeParse(base64urlJson(parts[1] as string));
  if (!claims.success) return { problem: 'Invalid JWT: the claims must be JSON with iss, scope and exp.' };
  if (!claims.data.scope.split(' ').includes(SHEETS_SCOPE)) return { problem: `Invalid JWT: scope must include ${SHEETS_SCOPE}.` };
  const now = Date.now() / 1000;
  if (claims.data.exp <= now || claims.data.exp > now + TOKEN_LIFETIME_S + 300) {
    return { problem: 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.' };
  }
  return { iss: claims.data.iss };
}

export class Tokens {
  private readonly tokens = new Map<string, { iss: string; expiresAt: number }>();

  /** The answer to POST /token for a form-encoded grant: status and OAuth JSON. */
  grant(form: URLSearchParams): { status: number; body: unknown } {
    const oauthError = (error: string, description: string) => ({ status: 400, body: { error, error_description: description } });
    if (form.get('grant_type') !== JWT_GRANT) return oauthError('unsupported_grant_type', `Invalid grant_type: use ${JWT_GRANT}`);
    const who = assertionIssuer(form.get('assertion'));
    if ('problem' in who) return oauthError('invalid_grant', who.problem);
    const now = Date.now();
    for (const [t, v] of this.tokens) if (v.expiresAt <= now) this.tokens.delete(t);
    const accessToken = `ya29.local-${randomBytes(32).toString('base64url')}`;
    this.tokens.set(accessToken, { iss: who.iss, expiresAt: now + TOKEN_LIFETIME_S * 1000 });
    return { status: 200, body: { access_token: accessToken, expires_in: TOKEN_LIFETIME_S, token_type: 'Bearer' } };
  }

  /** The service account behind an Authorization header, or Google's 401. */
  authenticate(header: string | undefined): string {
    const challenge = { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' };
    if (!header?.startsWith('Bearer ')) {
      throw new ApiError(401, 'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.', challenge);
    }
    const token = this.tokens.get(header.slice('Bearer '.length).trim());
    if (!token || token.expiresAt <= Date.now()) {
      throw new ApiError(401, 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.', challenge);
    }
    return token.iss;
  }
}

const generateKeyPair = promisify(generateKeyPairCb);

/** A throwaway service-account key JSON (fresh RSA-2048 key) whose token_uri is this server's /token — for tests and the demo. */
export async function testServiceAccount(server: { tokenUrl: string }): Promise<{ type: 'service_account'; client_email: string; private_key: string; private_key_id: string; token_uri: string; project_id: string }> {
  const { privateKey } = await generateKeyPair('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const project = 'sheets-server-local';
  return {
    type: 'service_account',
    client_email: `test-${randomBytes(6).toString('hex')}@${project}.iam.gserviceaccount.com`,
    private_key: privateKey,
    private_key_id: randomBytes(20).toString('hex'),
    token_uri: server.tokenUrl,
    project_id: project,
  };
}
