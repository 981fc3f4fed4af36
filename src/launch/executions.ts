// Creating a Studio Execution through the project's Twilio client, with the
// answer's status and headers in hand: a 429's Retry-After is honoured by the
// launch itself, so the client's own 429 retries are turned off
// (noAutoRetry) before its HTTP client is first made.

import type TwilioSdk from 'twilio';
import { maskNumbersIn } from './numbers.js';

export type CreateResult =
  | { readonly kind: 'created'; readonly sid: string }
  /** 429: Twilio's Retry-After in ms when it sent one. */
  | { readonly kind: 'throttled'; readonly retryAfterMs: number | undefined }
  /** 5xx or no answer: worth trying again. */
  | { readonly kind: 'retry'; readonly why: string }
  /** Any other refusal: trying again would not help. */
  | { readonly kind: 'refused'; readonly error: string };

/** Must run before the client's first request: its HTTP client takes the setting when it is made. */
export function noAutoRetry(twilio: TwilioSdk.Twilio): void {
  twilio.autoRetry = false;
}

/** Retry-After in seconds or as an HTTP date. */
export function retryAfterMs(value: unknown, now = Date.now()): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export async function createExecution(twilio: TwilioSdk.Twilio, flowSid: string, to: string, from: string, parameters: Readonly<Record<string, string>>): Promise<CreateResult> {
  let response: { statusCode: number; body: unknown; headers: Record<string, unknown> };
  try {
    response = await twilio.request({
      method: 'post',
      uri: `${twilio.studio.baseUrl}/v2/Flows/${flowSid}/Executions`,
      data: { To: to, From: from, Parameters: JSON.stringify(parameters) },
    });
  } catch (error) {
    return { kind: 'retry', why: `no answer (${(error as { code?: string }).code ?? (error as Error).name})` };
  }
  const body = (typeof response.body === 'string' ? safeJson(response.body) : response.body) as { sid?: unknown; code?: unknown; message?: unknown } | undefined;
  const status = response.statusCode;
  if (status === 201 || status === 200) {
    if (typeof body?.sid === 'string') return { kind: 'created', sid: body.sid };
    return { kind: 'retry', why: `HTTP ${status} without an execution SID` };
  }
  if (status === 429) return { kind: 'throttled', retryAfterMs: retryAfterMs(response.headers['retry-after']) };
  const code = typeof body?.code === 'number' ? ` ${body.code}` : '';
  const message = typeof body?.message === 'string' ? `: ${maskNumbersIn(body.message)}` : '';
  if (status >= 500) return { kind: 'retry', why: `HTTP ${status}${code}${message}` };
  return { kind: 'refused', error: `Twilio error${code || ` HTTP ${status}`}${message}` };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The executions of a flow created since `since`, by contact address (without whatsapp:), for a resume to find what a crash left unrecorded. */
export async function executionsSince(twilio: TwilioSdk.Twilio, flowSid: string, since: Date): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const list = await twilio.studio.v2.flows(flowSid).executions.list({ dateCreatedFrom: since, pageSize: 1000 });
  for (const e of list) found.set(e.contactChannelAddress.replace(/^whatsapp:/i, ''), e.sid);
  return found;
}
