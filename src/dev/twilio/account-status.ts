// The account's status for the Twilio stand-in (API 2010): a main account, or
// a subaccount of `ownerAccountSid`; Status updates (suspended, active,
// closed) as Twilio's Account resource documents them: only a subaccount's
// status changes, only with its parent's credentials, and a closed account
// stays closed. Also Messages create, which a suspended or closed account is
// refused (it "cannot send SMS messages"; the stand-in answers 401 with
// Twilio's code 20005, Account not active — the exact answer of a real
// suspended account is not documented).
//
// Bodies come from api2010.ts's own routes (the account and the message as
// fetched), so both resources keep one shape.

import { type ApiRequest, findRoute, invalid, missing, notFound, type Reply, type Route, TwilioError } from './http.js';
import type { MessageSeed } from './api2010.js';

export type AccountStatus = 'active' | 'suspended' | 'closed';

export interface AccountState {
  readonly status: AccountStatus;
  /** The parent's SID for a subaccount; the account's own SID for a main account. */
  readonly ownerAccountSid: string;
}

export interface AccountStatusOptions {
  readonly accountSid: string;
  /** The parent account: set for a subaccount. */
  readonly ownerAccountSid?: string;
  /** api2010's routes, whose GET handlers give the bodies. */
  readonly api2010: () => readonly Route[];
  readonly addMessage: (seed: MessageSeed) => string;
}

export interface AccountStatusStandIn {
  readonly routes: readonly Route[];
  state(): AccountState;
  /** Sets the status as the parent would (tests: a subaccount suspended earlier). */
  setStatus(status: AccountStatus): void;
}

const STATUSES: readonly AccountStatus[] = ['active', 'suspended', 'closed'];
const ADDRESS = /^(?:[a-z]+:)?\+[1-9]\d{6,14}$/;

export function createAccountStatus(options: AccountStatusOptions): AccountStatusStandIn {
  const { accountSid } = options;
  const owner = options.ownerAccountSid ?? accountSid;
  let status: AccountStatus = 'active';

  /** The body api2010 answers for GET `path`. */
  const fetched = async (r: ApiRequest, path: string): Promise<Reply> => {
    const found = findRoute(options.api2010(), 'GET', path);
    if (!found || found === 'method') throw notFound(path);
    return found.route.handle({ ...r, method: 'GET', path, query: new URLSearchParams(), form: new URLSearchParams() }, found.params);
  };

  const routes: Route[] = [
    {
      method: 'POST',
      pattern: '/2010-04-01/Accounts/:Sid.json',
      handle: (r, p) => {
        if (p.Sid !== accountSid) throw notFound(r.path);
        const wanted = r.form.get('Status');
        if (wanted !== null) {
          if (!(STATUSES as readonly string[]).includes(wanted)) throw invalid('Status', 'must be active, suspended or closed');
          if (owner === accountSid) throw new TwilioError(403, 20403, 'A main account cannot be suspended or closed through the API');
          if (r.principal !== owner) throw new TwilioError(403, 20403, "A subaccount's status is changed with its parent account's credentials");
          if (status === 'closed' && wanted !== 'closed') throw invalid('Status', 'a closed account cannot be reopened');
          status = wanted as AccountStatus;
        }
        return fetched(r, r.path);
      },
    },
    {
      method: 'POST',
      pattern: '/2010-04-01/Accounts/:AccountSid/Messages.json',
      handle: (r, p) => {
        if (p.AccountSid !== accountSid) throw notFound(r.path);
        const to = r.form.get('To');
        if (!to) throw missing('To');
        const from = r.form.get('From');
        if (!from) throw missing('From');
        for (const [name, address] of [['To', to], ['From', from]] as const) if (!ADDRESS.test(address)) throw new TwilioError(400, 21211, `Invalid '${name}' Phone Number`);
        const body = r.form.get('Body') ?? '';
        if (body === '' && !r.form.get('ContentSid')) throw missing('Body');
        if (body.length > 1600) throw new TwilioError(400, 21617, 'The concatenated message body exceeds the 1600 character limit');
        if (status !== 'active') throw new TwilioError(401, 20005, 'Account not active');
        const sid = options.addMessage({ direction: 'outbound-api', from, to, status: 'queued', body });
        return fetched(r, `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`).then((reply) => ({ status: 201, body: reply.body }));
      },
    },
  ];

  return {
    routes,
    state: () => ({ status, ownerAccountSid: owner }),
    setStatus(next) {
      status = next;
    },
  };
}
