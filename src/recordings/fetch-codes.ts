// Twilio's error codes for a recording Voice Recording Encryption could not
// store for want of a usable public key: 16104 in Twilio's guide, 16105 as the
// issue names it. A leaf module, so the Function's bundle does not pull in the
// API client.
export const NOT_STORED_CODES: ReadonlySet<number> = new Set([16104, 16105]);
