// What monitor reads from Twilio: every message since the round began (a few
// list pages of 1,000 rather than one request per contact) and the state of
// the round's Studio executions. Only reads.

import type TwilioSdk from 'twilio';
import { e164Of } from './contacts.js';
import type { MessageRecord } from './status.js';

const PAGE_SIZE = 1000;

export interface ListPage<T> {
  readonly instances: T[];
  nextPage(): Promise<ListPage<T>> | undefined;
}

/** Every page of a list, following Twilio's next-page links. */
export async function* pages<T>(first: Promise<ListPage<T>>, signal: AbortSignal | undefined): AsyncGenerator<T[]> {
  let page: ListPage<T> | undefined = await first;
  while (page) {
    signal?.throwIfAborted();
    yield page.instances;
    page = await page.nextPage();
  }
}

export async function listMessages(twilio: TwilioSdk.Twilio, since: Date | undefined, signal?: AbortSignal): Promise<MessageRecord[]> {
  const records: MessageRecord[] = [];
  const first = twilio.api.v2010.account.messages.page({ pageSize: PAGE_SIZE, ...(since !== undefined ? { dateSentAfter: since } : {}) });
  for await (const instances of pages(first, signal)) {
    for (const m of instances) {
      records.push({
        direction: m.direction,
        from: e164Of(m.from),
        to: e164Of(m.to),
        status: m.status,
        errorCode: m.errorCode ?? null,
        dateSent: m.dateSent instanceof Date && Number.isFinite(m.dateSent.getTime()) ? m.dateSent.getTime() : undefined,
      });
    }
  }
  return records;
}

const isNotFound = (error: unknown) => (error as { status?: number } | null)?.status === 404;

/**
 * The status (active / ended) of each wanted execution, found by listing the
 * account's flows' executions created since `since`; undefined when Studio
 * cannot list them.
 */
export async function executionStates(twilio: TwilioSdk.Twilio, wanted: ReadonlySet<string>, since: Date | undefined, signal?: AbortSignal): Promise<Map<string, string> | undefined> {
  const states = new Map<string, string>();
  if (wanted.size === 0) return states;
  try {
    const flows = await twilio.studio.v2.flows.list({ pageSize: 50 });
    for (const flow of flows) {
      const first = twilio.studio.v2.flows(flow.sid).executions.page({ pageSize: PAGE_SIZE, ...(since !== undefined ? { dateCreatedFrom: since } : {}) });
      for await (const instances of pages(first, signal)) {
        for (const e of instances) if (wanted.has(e.sid)) states.set(e.sid, e.status);
        if (states.size === wanted.size) return states;
      }
    }
    return states;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
