// What every product of the Twilio stand-in shares: Twilio's error shape,
// SIDs and timestamps, form parameters, routes, and Twilio's two page shapes
// (`meta` for v1/v2 lists, the 2010 API's own).

import { randomBytes } from 'node:crypto';

export class TwilioError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    /** Extra detail some errors carry, e.g. Studio's validation failures. */
    readonly details?: unknown,
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      more_info: `https://www.twilio.com/docs/errors/${this.code}`,
      status: this.status,
      ...(this.details !== undefined ? { details: this.details } : {}),
    };
  }
}

export const notFound = (path: string) => new TwilioError(404, 20404, `The requested resource ${path} was not found`);
export const missing = (name: string) => new TwilioError(400, 20001, `Missing required parameter ${name} in the post body`);
export const invalid = (name: string, why: string) => new TwilioError(400, 20001, `Invalid parameter ${name}: ${why}`);
export const conflict = (message: string) => new TwilioError(409, 20409, message);

export const newSid = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;
/** v1/v2 timestamps: ISO 8601 to the second. */
export const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** The 2010 API's timestamps: RFC 2822, e.g. "Thu, 30 Jul 2015 20:00:00 +0000". */
export const rfc2822 = (ms: number) => new Date(ms).toUTCString().replace('GMT', '+0000');

/** What a product handler sees of a request. */
export interface ApiRequest {
  readonly method: string;
  /** The path within the product, e.g. /v1/Services/ZS…; decoded segments are in `params`. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Form parameters of a form-encoded body (repeated names keep every value). */
  readonly form: URLSearchParams;
  readonly body: Buffer;
  readonly contentType: string;
  /** The product's public base, e.g. http://127.0.0.1:4010/serverless: every URL in a body starts with it. */
  readonly base: string;
  /** Who authenticated: the account SID or an API key SID. */
  readonly principal: string;
}

export interface Reply {
  readonly status: number;
  /** JSON, or a Buffer served as bytes of `contentType` (a recording's media). */
  readonly body?: unknown;
  readonly contentType?: string;
}

export type Params = Readonly<Record<string, string>>;

export interface Route {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** Segments starting with ':' capture one path segment, e.g. /v1/Services/:ServiceSid, or its start before a suffix (:Sid.json). */
  readonly pattern: string;
  handle(request: ApiRequest, params: Params): Reply | Promise<Reply>;
}

/** The route for a path: a match, 'method' when only the method is wrong, or undefined. */
export function findRoute(routes: readonly Route[], method: string, path: string): { route: Route; params: Params } | 'method' | undefined {
  let segments: string[];
  try {
    segments = path.split('/').slice(1).map(decodeURIComponent);
  } catch {
    return undefined;
  }
  let pathMatched = false;
  for (const route of routes) {
    const pattern = route.pattern.split('/').slice(1);
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matches = pattern.every((p, i) => {
      const s = segments[i] as string;
      if (p.startsWith(':')) {
        // ':Sid.json' captures a segment ending in '.json' (the 2010 API's paths).
        const [name, suffix = ''] = p.slice(1).split(/(?=\.)/);
        if (s.length <= suffix.length || !s.endsWith(suffix)) return false;
        params[name as string] = s.slice(0, s.length - suffix.length);
        return true;
      }
      return p === s;
    });
    if (!matches) continue;
    if (route.method === method) return { route, params };
    pathMatched = true;
  }
  return pathMatched ? 'method' : undefined;
}

export function required(form: URLSearchParams, name: string): string {
  const value = form.get(name);
  if (value === null || value === '') throw missing(name);
  return value;
}

export function optionalBoolean(form: URLSearchParams, name: string): boolean | undefined {
  const value = form.get(name);
  if (value === null) return undefined;
  if (value !== 'true' && value !== 'false') throw invalid(name, 'must be true or false');
  return value === 'true';
}

export function optionalUrl(form: URLSearchParams, name: string): string | undefined {
  const value = form.get(name);
  if (value === null) return undefined;
  if (value === '') return '';
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return value;
  } catch {
    // reported below
  }
  throw invalid(name, 'must be an http or https URL');
}

export function optionalMethod(form: URLSearchParams, name: string): 'GET' | 'POST' | undefined {
  const value = form.get(name);
  if (value === null) return undefined;
  const upper = value.toUpperCase();
  if (upper !== 'GET' && upper !== 'POST') throw invalid(name, 'must be GET or POST');
  return upper;
}

/** One listed resource: its position in creation order (the page token) and its body. */
export interface Entry {
  readonly seq: number;
  readonly body: unknown;
}

interface PageWindow {
  readonly page: number;
  readonly pageSize: number;
  readonly served: readonly Entry[];
  /** Query parameters that select the list (filters), kept in every page URL. */
  readonly filters: string;
  /** The next page's query, or null on the last page. */
  readonly next: string | null;
  readonly first: string;
}

/**
 * One page of `entries` (in creation order), from Page/PageSize/PageToken as
 * Twilio takes them. The token names the last entry served, so resources
 * deleted between pages skip nothing.
 */
function pageWindow(entries: readonly Entry[], query: URLSearchParams): PageWindow {
  const pageSize = Number(query.get('PageSize') ?? 50);
  const page = Number(query.get('Page') ?? 0);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw new TwilioError(400, 20001, 'PageSize must be an integer from 1 to 1000');
  if (!Number.isInteger(page) || page < 0) throw new TwilioError(400, 20001, 'Page must be a non-negative integer');
  const token = query.get('PageToken');
  let after = -1;
  if (token !== null) {
    const m = /^PT(\d{1,15})$/.exec(token);
    if (!m) throw new TwilioError(400, 20001, 'Invalid PageToken');
    after = Number(m[1]);
  }
  const filters = new URLSearchParams([...query].filter(([k]) => k !== 'PageSize' && k !== 'Page' && k !== 'PageToken')).toString();
  const rest = [...entries].sort((a, b) => a.seq - b.seq).filter((e) => e.seq > after);
  const served = rest.slice(0, pageSize);
  const q = (n: number, last?: number) => `${filters ? `${filters}&` : ''}PageSize=${pageSize}&Page=${n}${last === undefined ? '' : `&PageToken=PT${last}`}`;
  const last = served.at(-1);
  return { page, pageSize, served, filters, first: q(0), next: rest.length > pageSize && last ? q(page + 1, last.seq) : null };
}

/** A v1/v2 list page: `{ [key]: [...], meta: {...} }` with absolute URLs under the product's public base. */
export function pageV1(key: string, entries: readonly Entry[], request: ApiRequest): Record<string, unknown> {
  const w = pageWindow(entries, request.query);
  const base = `${request.base}${request.path}`;
  const search = request.query.toString();
  return {
    [key]: w.served.map((e) => e.body),
    meta: {
      page: w.page,
      page_size: w.pageSize,
      first_page_url: `${base}?${w.first}`,
      // Going back would need the tokens of every earlier page; nothing here pages backwards.
      previous_page_url: null,
      url: `${base}${search ? `?${search}` : ''}`,
      next_page_url: w.next === null ? null : `${base}?${w.next}`,
      key,
    },
  };
}

/** A 2010 API list page: the list under `key` beside start/end and relative `…_uri`s (the client prefixes its base). */
export function page2010(key: string, entries: readonly Entry[], request: ApiRequest): Record<string, unknown> {
  const w = pageWindow(entries, request.query);
  const start = w.page * w.pageSize;
  return {
    [key]: w.served.map((e) => e.body),
    end: w.served.length === 0 ? start : start + w.served.length - 1,
    first_page_uri: `${request.path}?${w.first}`,
    next_page_uri: w.next === null ? null : `${request.path}?${w.next}`,
    page: w.page,
    page_size: w.pageSize,
    previous_page_uri: null,
    start,
    uri: `${request.path}?${w.filters ? `${w.filters}&` : ''}PageSize=${w.pageSize}&Page=${w.page}${request.query.has('PageToken') ? `&PageToken=${request.query.get('PageToken')}` : ''}`,
  };
}

/** A monotonic creation counter shared by every resource of one stand-in (the page order). */
export function counter(): () => number {
  let n = 0;
  return () => ++n;
}
