// Accounts v1 for the Twilio stand-in: Credentials/PublicKeys (create, list,
// fetch, delete), the public keys Voice Recording Encryption wraps content
// keys with. As on Twilio, the key itself is never served back: only its CR…
// SID and friendly name. The stand-in keeps the PEM for tests to inspect.

import { createPublicKey } from 'node:crypto';
import { type ApiRequest, type Entry, invalid, iso, newSid, notFound, pageV1, required, type Route } from './http.js';

export interface PublicKeySnapshot {
  readonly sid: string;
  readonly friendlyName: string | null;
  /** The PEM as it was uploaded. */
  readonly publicKey: string;
}

interface PublicKey extends PublicKeySnapshot {
  readonly seq: number;
  readonly created: number;
}

export interface Accounts {
  readonly routes: readonly Route[];
  publicKeys(): PublicKeySnapshot[];
}

export function createAccounts(options: { readonly accountSid: string; readonly clock: () => number; readonly seq: () => number }): Accounts {
  const { accountSid, clock, seq } = options;
  const keys = new Map<string, PublicKey>();
  const body = (k: PublicKey, r: ApiRequest) => ({
    sid: k.sid,
    account_sid: accountSid,
    friendly_name: k.friendlyName,
    date_created: iso(k.created),
    date_updated: iso(k.created),
    url: `${r.base}/v1/Credentials/PublicKeys/${k.sid}`,
  });
  const find = (r: ApiRequest, sid: string) => {
    const k = keys.get(sid);
    if (!k) throw notFound(r.path);
    return k;
  };
  const routes: Route[] = [
    {
      method: 'POST',
      pattern: '/v1/Credentials/PublicKeys',
      handle: (r) => {
        const pem = required(r.form, 'PublicKey');
        try {
          if (createPublicKey({ key: pem, format: 'pem' }).asymmetricKeyType !== 'rsa') throw new Error('not RSA');
        } catch {
          throw invalid('PublicKey', 'must be an RSA public key in PEM form');
        }
        const friendlyName = r.form.get('FriendlyName');
        if (friendlyName !== null && friendlyName.length > 64) throw invalid('FriendlyName', 'must be at most 64 characters');
        const sub = r.form.get('AccountSid');
        if (sub !== null && sub !== accountSid) throw invalid('AccountSid', 'must be this account or one of its subaccounts');
        const key: PublicKey = { sid: newSid('CR'), seq: seq(), created: clock(), friendlyName, publicKey: pem };
        keys.set(key.sid, key);
        return { status: 201, body: body(key, r) };
      },
    },
    {
      method: 'GET',
      pattern: '/v1/Credentials/PublicKeys',
      handle: (r) => ({ status: 200, body: pageV1('credentials', [...keys.values()].map((k): Entry => ({ seq: k.seq, body: body(k, r) })), r) }),
    },
    {
      method: 'GET',
      pattern: '/v1/Credentials/PublicKeys/:Sid',
      handle: (r, p) => ({ status: 200, body: body(find(r, p.Sid as string), r) }),
    },
    {
      method: 'DELETE',
      pattern: '/v1/Credentials/PublicKeys/:Sid',
      handle: (r, p) => {
        find(r, p.Sid as string);
        keys.delete(p.Sid as string);
        return { status: 204 };
      },
    },
  ];
  return {
    routes,
    publicKeys: () => [...keys.values()].map(({ sid, friendlyName, publicKey }) => ({ sid, friendlyName, publicKey })),
  };
}
