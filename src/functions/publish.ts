// The publish Function's core: one Studio response → one row in the sheet
// (or the pending queue), answered as JSON for widgets.<name>.parsed.*.

import { publishConfig, PublishConfigError, type PublishConfig } from '../publish/config.js';
import { publishResponse, queueRequestTimeoutMs } from '../publish/publish.js';
import { isProblem, readResponse } from '../publish/row.js';
import { syncQueue, type PendingQueue } from '../queue/sync-queue.js';
import { sheetsClient } from '../sheets/client.js';
import { SheetTable } from '../sheets/table.js';
import { errorResult, type Core, type HttpResult } from './runtime.js';

let deps: { readonly config: PublishConfig; readonly table: SheetTable; readonly queue: PendingQueue | undefined } | undefined;

function depsFor(config: PublishConfig) {
  if (deps?.config !== config) {
    const client = sheetsClient({ account: config.account, rootUrl: config.sheetsApiUrl });
    deps = { config, table: new SheetTable(client, config.target), queue: config.queue ? syncQueue({ ...config.queue, timeoutMs: queueRequestTimeoutMs(config.deadlineMs) }) : undefined };
  }
  return deps;
}

/** `serviceAccountFile`: where the private asset with the Google key is, if deployed. */
export function publishCore(serviceAccountFile: () => string | undefined): Core {
  return async (env, params): Promise<HttpResult> => {
    let config: PublishConfig;
    try {
      config = publishConfig(env, serviceAccountFile());
    } catch (error) {
      if (error instanceof PublishConfigError) return errorResult(500, 'CONFIG_INVALID', error.message);
      throw error;
    }
    const response = readResponse(params, config.pii);
    if (isProblem(response)) return errorResult(response.status, response.code, response.message);
    const result = await publishResponse(response, config, depsFor(config));
    if (isProblem(result)) return errorResult(result.status, result.code, result.message);
    if (result.unmapped.length > 0) {
      // Names only: they come from the flow's widget configuration, never from respondents.
      console.warn(`publish: ${result.unmapped.length} parameter(s) have no column in the sheet and were not written: ${result.unmapped.join(', ')}`);
    }
    return {
      status: 200,
      body: { stored: result.stored === 'queue' ? 'queue' : 'sheet', duplicate: result.stored === 'duplicate', queued: result.stored === 'queue', unmapped: result.unmapped },
    };
  };
}
