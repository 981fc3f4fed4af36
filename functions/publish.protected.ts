// Studio Run Function target: every parameter is a column; answers
// { "stored": "sheet" | "queue", "duplicate", "queued", "unmapped": [...] }.
import { publishCore } from '../src/functions/publish.js';
import { protectedFunction } from '../src/functions/runtime.js';

// assets/google-service-account.private.json, deployed as a private asset.
const keyAsset = (): string | undefined => Runtime.getAssets()['/google-service-account.json']?.path;

export const handler = protectedFunction('publish', publishCore(keyAsset));
