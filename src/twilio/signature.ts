// X-Twilio-Signature validation (../shared/seeds/002: webhook security) with the
// twilio library's own validators, wrapped for the pitfalls that make a correct
// signature look forged: the trailing slash a server adds or drops, and the
// scheme/host a proxy rewrites. Ports (:443/:80) are already tried by twilio.

import webhooks from 'twilio/lib/webhooks/webhooks.js';

export type FormParams = Readonly<Record<string, string | readonly string[]>>;

export type SignedRequest =
  /** POST application/x-www-form-urlencoded: URL + sorted parameters. */
  | { readonly kind: 'form'; readonly urls: readonly string[]; readonly params: FormParams }
  /** POST with a JSON body: URL carries bodySHA256, which must match the raw body. */
  | { readonly kind: 'json'; readonly urls: readonly string[]; readonly rawBody: string }
  /** GET: everything is in the URL's query string. */
  | { readonly kind: 'get'; readonly urls: readonly string[] };

/** The URL as given, plus the same with the path's trailing slash added or removed. */
export function slashVariants(url: string): string[] {
  const q = url.indexOf('?');
  const base = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? '' : url.slice(q);
  const other = base.endsWith('/') ? base.slice(0, -1) : `${base}/`;
  return [url, other + query];
}

/** A validator that throws (a malformed URL, e.g. from a bad Host header) has not seen a valid signature. */
function holds(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}

export function isValidTwilioSignature(authToken: string, signature: string | undefined, request: SignedRequest): boolean {
  if (!authToken || !signature) return false;
  const urls = request.urls.flatMap(slashVariants);
  switch (request.kind) {
    case 'form':
      // twilio's typings want mutable string values; arrays (repeated keys) are handled by it at run time.
      return urls.some((url) => holds(() => webhooks.validateRequest(authToken, signature, url, request.params as Record<string, string>)));
    case 'json':
      return urls.some((url) => holds(() => webhooks.validateRequestWithBody(authToken, signature, url, request.rawBody)));
    case 'get':
      return urls.some((url) => holds(() => webhooks.validateRequest(authToken, signature, url, {})));
  }
}

/** What Twilio would send: used by tests, the flow runner and the benchmarks to sign requests. */
export function signForm(authToken: string, url: string, params: FormParams): string {
  return webhooks.getExpectedTwilioSignature(authToken, url, params as Record<string, string>);
}
