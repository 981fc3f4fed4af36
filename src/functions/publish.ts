// The publish Function's core: one Studio response → one row in the sheet
// (or the pending queue), answered as JSON for widgets.<name>.parsed.*.

import { publishConfig, type PublishConfig } from '../publish/config.js';
import { guardResponse } from '../publish/header.js';
import { publishResponse, syncTimeouts, type PublishDeps } from '../publish/publish.js';
import { isProblem, readResponse } from '../publish/row.js';
import { syncStores } from '../publish/sync-stores.js';
import { sheetsClient } from '../sheets/client.js';
import { SheetTable } from '../sheets/table.js';
import { errorResult, type Core, type HttpResult } from './runtime.js';

let deps: { readonly config: PublishConfig; readonly deps: PublishDeps } | undefined;

function depsFor(config: PublishConfig): PublishDeps {
  if (deps?.config !== config) {
    const client = sheetsClient({ account: config.account, rootUrl: config.sheetsApiUrl });
    deps = { config, deps: { table: new SheetTable(client, config.target), ...syncStores(config.sync, config.target, syncTimeouts(config.deadlineMs)) } };
  }
  return deps.deps;
}

/** `serviceAccountFile`: where the private asset with the Google key is, if deployed. */
export function publishCore(serviceAccountFile: () => string | undefined): Core {
  return async (env, params): Promise<HttpResult> => {
    // A PublishConfigError is a ConfigError: the guard answers 500 CONFIG_INVALID and logs the variable's name.
    const config = publishConfig(env, serviceAccountFile());
    const response = readResponse(params);
    if (isProblem(response)) return errorResult(response.status, response.code, response.message);
    const refused = guardResponse(response, config.pii);
    if (refused) return errorResult(refused.status, refused.code, refused.message);
    const result = await publishResponse(response, config, depsFor(config));
    if (isProblem(result)) return errorResult(result.status, result.code, result.message);
    return { status: 200, body: { stored: result.stored, duplicate: result.duplicate, queued: result.stored === 'queue' } };
  };
}
