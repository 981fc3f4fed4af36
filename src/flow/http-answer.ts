// What a Run Function or Make HTTP Request widget exposes of an answer, as
// Studio does. Studio's docs (Make HTTP Request widget) say the response is
// parsed when it is a JSON object and the body is limited to 64 kB; that the
// same holds for a Run Function is an assumption. A larger body takes the
// widget's failure transition here.

export const MAX_BODY_BYTES = 64 * 1024;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface WidgetAnswer {
  readonly ok: boolean;
  /** What `widgets.<name>` holds: status_code, content_type, body and, for a JSON object, parsed. */
  readonly context: Record<string, unknown>;
  /** Why a successful status still fails (the body is over the limit). */
  readonly problem?: string;
}

export function widgetAnswer(status: number, contentType: string, body: string): WidgetAnswer {
  const bytes = Buffer.byteLength(body);
  if (bytes > MAX_BODY_BYTES) {
    return { ok: false, context: { status_code: status, content_type: contentType, body: '' }, problem: `the answer's body is ${bytes} bytes, over Studio's 64 kB limit` };
  }
  let parsed: unknown;
  if (/json/i.test(contentType)) {
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
  }
  return {
    ok: status >= 200 && status < 300,
    context: { status_code: status, content_type: contentType, body, ...(isObject(parsed) ? { parsed } : {}) },
  };
}

/**
 * A failed Function's answer in one line: status, and the code and message of
 * its JSON error (our Functions' messages name parameters, never values).
 */
export function functionFailure(where: string, status: number, parsed: unknown): string {
  const error = isObject(parsed) && isObject(parsed.error) ? parsed.error : undefined;
  const code = typeof error?.code === 'string' ? ` ${error.code.slice(0, 64)}` : '';
  const message = typeof error?.message === 'string' ? `: ${error.message.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 300)}` : ' (no JSON error in the answer)';
  return `${where} answered HTTP ${status}${code}${message}`;
}
