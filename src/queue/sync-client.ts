// One Twilio Sync service through the real twilio client, shared by the
// pending queue and the row claims: credentials checked up front, twilio-node
// loaded on first use, and every failure classified as a QueueError that names
// the operation, the status and the fix, never a value that was sent.

import type TwilioSdk from 'twilio';

export type QueueErrorCode = 'TOO_LARGE' | 'AUTH' | 'UNREACHABLE' | 'SERVICE_NOT_FOUND' | 'REJECTED';

export class QueueError extends Error {
  override readonly name = 'QueueError';
  constructor(
    message: string,
    readonly code: QueueErrorCode,
  ) {
    super(message);
  }
}

export interface SyncServiceOptions {
  readonly accountSid: string;
  readonly authToken: string;
  /** Sync service SID; 'default' (the account's default service) when unset. */
  readonly serviceSid?: string;
  /** Root URL of the Sync API, e.g. a local stand-in or Prism; https://sync.twilio.com when unset. */
  readonly apiUrl?: string;
  /** Per-request timeout; twilio-node's default (30 s) when unset. */
  readonly timeoutMs?: number;
}

// twilio-node puts keys and names into URL paths unencoded; execution SIDs (FN…) are plain.
export const PATH_SEGMENT = /^[A-Za-z0-9_.-]{1,320}$/;

interface TwilioFailure {
  readonly status: number;
  readonly code: number | undefined;
}

/** The HTTP status (and Twilio error code) of an answer Twilio gave; undefined for network and other errors. */
export function twilioFailure(error: unknown): TwilioFailure | undefined {
  if (!(error instanceof Error) || (error as { isAxiosError?: unknown }).isAxiosError === true) return undefined;
  const { status, code } = error as { status?: unknown; code?: unknown };
  return typeof status === 'number' ? { status, code: typeof code === 'number' ? code : undefined } : undefined;
}

type ServiceContext = ReturnType<TwilioSdk.Twilio['sync']['v1']['services']>;

export interface SyncService {
  /** The service's twilio-node context (client created on first use; its failure is for error() to classify). */
  context(): Promise<ServiceContext>;
  /** Classifies any failure of `doing` (e.g. "queueing a row") as a QueueError. */
  error(doing: string, error: unknown): QueueError;
  /**
   * Creates the Map or List `uniqueName`; one that already exists (another
   * instance won the race) is fine, a missing service is SERVICE_NOT_FOUND.
   */
  ensure(kind: 'map' | 'list', uniqueName: string, doing: string): Promise<void>;
  /** Twilio's next-page URLs are absolute; this keeps them on the configured root (a proxy, a stand-in). */
  onApiRoot(url: string): string;
}

export function syncService(options: SyncServiceOptions): SyncService {
  const serviceSid = options.serviceSid ?? 'default';
  if (!/^AC[0-9a-fA-F]{32}$/.test(options.accountSid)) throw new Error('accountSid is not an Account SID (AC followed by 32 hex digits): check ACCOUNT_SID');
  if (!options.authToken) throw new Error('authToken is empty: check AUTH_TOKEN');
  if (!PATH_SEGMENT.test(serviceSid)) throw new Error('serviceSid must be a Sync service SID (IS…) or "default": check SYNC_SERVICE_SID');
  const apiRoot = options.apiUrl?.replace(/\/+$/, '');
  const where = apiRoot ? `Twilio Sync at ${new URL(apiRoot).origin}` : 'Twilio Sync';

  let loading: Promise<TwilioSdk.Twilio> | undefined;
  const client = (): Promise<TwilioSdk.Twilio> =>
    (loading ??= (async () => {
      // Loaded on first use: a Function that never touches Sync does not pay for twilio-node.
      const { default: twilio } = await import('twilio');
      const c = twilio(options.accountSid, options.authToken, {
        autoRetry: false,
        ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
        // TWILIO_REGION/TWILIO_EDGE would rewrite the host of an explicit API URL.
        ...(apiRoot ? { region: '', edge: '' } : {}),
      });
      if (apiRoot) c.sync.baseUrl = apiRoot;
      return c;
    })().catch((error: unknown) => {
      loading = undefined;
      throw error;
    }));

  function error(doing: string, cause: unknown): QueueError {
    if (cause instanceof QueueError) return cause;
    const failure = twilioFailure(cause);
    if (failure) {
      const { status, code } = failure;
      const twilioCode = code === undefined ? '' : `, Twilio error ${code}`;
      if (status === 401 || code === 20003) {
        return new QueueError(`${doing}: ${where} refused the credentials (HTTP ${status}${twilioCode}): check ACCOUNT_SID/AUTH_TOKEN`, 'AUTH');
      }
      if (status === 429 || status >= 500) {
        return new QueueError(`${doing}: ${where} is unavailable (HTTP ${status}${twilioCode}); try again later`, 'UNREACHABLE');
      }
      // Twilio's own message is left out: it may quote what was sent.
      const info = code === undefined ? '' : ` (see https://www.twilio.com/docs/errors/${code})`;
      return new QueueError(`${doing}: ${where} rejected the request (HTTP ${status}${twilioCode})${info}`, 'REJECTED');
    }
    const network = (cause as { code?: unknown } | null)?.code;
    if (cause instanceof Error && typeof network === 'string') {
      const timedOut = network === 'ECONNABORTED' || network === 'ETIMEDOUT';
      const detail = timedOut && options.timeoutMs !== undefined ? `no answer within ${options.timeoutMs} ms` : network;
      const fix = apiRoot ? 'check the network and the Sync API URL override' : 'check the network';
      return new QueueError(`${doing}: ${where} is unreachable (${detail}): ${fix}`, 'UNREACHABLE');
    }
    // The name only: an unexpected error's message could quote a response body.
    return new QueueError(`${doing} failed unexpectedly (${cause instanceof Error ? cause.name : typeof cause})`, 'REJECTED');
  }

  const context = async () => (await client()).sync.v1.services(serviceSid);

  return {
    context,
    error,
    async ensure(kind, uniqueName, doing) {
      try {
        const service = await context();
        if (kind === 'map') await service.syncMaps.create({ uniqueName });
        else await service.syncLists.create({ uniqueName });
      } catch (cause) {
        const failure = twilioFailure(cause);
        if (failure?.status === 409) return;
        if (failure?.status === 404) {
          throw new QueueError(`${doing}: the Sync service "${serviceSid}" does not exist: create a Sync service or set SYNC_SERVICE_SID`, 'SERVICE_NOT_FOUND');
        }
        throw error(doing, cause);
      }
    },
    onApiRoot(url) {
      if (!apiRoot) return url;
      const next = new URL(url);
      return `${apiRoot}${next.pathname}${next.search}`;
    },
  };
}
