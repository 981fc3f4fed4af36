// Twilio error codes a survey round meets, explained for the team in a line
// each (from twilio.com/docs/api/errors/<code>). An error on an inbound
// message is different in kind: the respondent wrote and the flow never heard.

const EXPLAINED: Readonly<Record<number, string>> = {
  11200: 'the webhook did not answer Twilio (HTTP retrieval failure): on a reply, the answer was lost; check the flow and the Functions',
  21211: "invalid 'To' number: not a valid phone number in E.164 form; fix it in the contact list",
  21408: 'permission to send to this region is off: enable the country in Console → Messaging → Settings → Geo permissions',
  21610: 'the recipient opted out (replied STOP): do not message them again unless they send START',
  21614: "'To' is not a mobile number",
  30003: 'unreachable handset: phone off, no signal or roaming; may succeed later',
  30005: 'unknown handset: the number is not in service',
  30006: 'landline or unreachable carrier: the number cannot receive messages',
  30007: 'filtered by the carrier as spam or abuse: review the wording',
  30008: 'unknown error: the carrier gave no reason; often temporary',
  63016: 'free-form message outside the 24-hour window: business-initiated WhatsApp openers must be an approved content template sent with its Content SID',
  63018: "rate limit exceeded for the channel: the sender's throughput or WhatsApp's daily business-initiated limit; slow the launch or wait",
  63024: 'invalid WhatsApp recipient: not on WhatsApp, or has not accepted its terms, or an old app',
};

export function explainError(code: number): string {
  return EXPLAINED[code] ?? `see https://www.twilio.com/docs/api/errors/${code}`;
}
