// Twilio resource SIDs: two capital letters and 32 hex digits (Studio executions are FN…, accounts AC…).

const SID = /^[A-Z]{2}[0-9a-fA-F]{32}$/;

export function isSid(value: string, prefix?: string): boolean {
  return SID.test(value) && (prefix === undefined || value.startsWith(prefix));
}
