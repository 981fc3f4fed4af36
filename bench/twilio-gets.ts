// A yardstick process for bench/purge.ts: COUNT plain GETs (message fetches)
// through the project's twilio client at CONCURRENCY, in its own process as
// purge runs in its own, so both pay the same client, network and stand-in
// costs. Usage: tsx bench/twilio-gets.ts COUNT CONCURRENCY SIDS_FILE (TWILIO_* in the environment).
import { readFileSync } from 'node:fs';
import { twilioClient, twilioCredentials } from '../src/twilio/client.js';

const [count, concurrency, sidsFile] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4] as string];
const sids = readFileSync(sidsFile, 'utf8').trim().split('\n');
const twilio = await twilioClient(twilioCredentials(process.env), { warn: () => {} });
let next = 0;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = next++;
      await twilio.api.v2010.account.messages(sids[i % sids.length] as string).fetch();
    }
  }),
);
