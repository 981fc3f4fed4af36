// What a non-empty cell of a sealed column holds, judged from its bytes: shared
// by column detection and the transform, so both count the same cells as sealed.

import { looksLegacy } from '../envelope/index.js';

/**
 * Longer cells are never a token (at most 24,000 characters) nor a legacy cell
 * (a sheet cell holds at most 50,000 characters); they are not made strings.
 */
export const MAX_SEALED_CELL_BYTES = 1 << 20;

/** `ss<digits>.`: an ss1 token, or a later version's (refused as UNKNOWN_VERSION when opened). */
export function looksLikeToken(raw: Uint8Array): boolean {
  if (raw.length < 4 || raw[0] !== 0x73 || raw[1] !== 0x73) return false;
  let i = 2;
  while (i < raw.length && (raw[i] as number) >= 0x30 && (raw[i] as number) <= 0x39) i++;
  return i > 2 && raw[i] === 0x2e;
}

/** An old CryptoJS cell (base64 of an IV and AES blocks). */
export function looksLikeLegacy(raw: Buffer): boolean {
  return raw.length <= MAX_SEALED_CELL_BYTES && looksLegacy(raw.toString('latin1').trim());
}
