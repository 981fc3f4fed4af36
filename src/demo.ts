// `npm run demo`: the whole idea in one command, on embedded defaults and no accounts.
// keys → the real encrypt Function (twilio-run) with a request signed as Studio
// signs it → only ciphertext leaves the Function → the analyst's key opens it.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startFunctions, PROJECT_ROOT, type RunningFunctions } from './dev/functions-server.js';
import { Opener } from './envelope/index.js';
import { KEY_FILE_NAMES, keygen, loadKeyFiles } from './keys/files.js';
import { signForm } from './twilio/signature.js';

const DEMO_DIR = join(PROJECT_ROOT, '.demo');
const KEY_DIR = join(DEMO_DIR, 'keys');

const SAMPLE = {
  respondent: 'whatsapp:+254700123456',
  full_name: 'Wanjiru Achieng Otieno',
  national_id: '23 456 789',
};

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function ensureKeys(): { publicKey: string; pseudonymKey: string } {
  if (!existsSync(join(KEY_DIR, KEY_FILE_NAMES.sealedPrivate))) {
    keygen('sealed', KEY_DIR);
    say(`Created a demo key pair in ${KEY_DIR} (git-ignored).`);
  }
  if (!existsSync(join(KEY_DIR, KEY_FILE_NAMES.pseudonym))) keygen('pseudonym', KEY_DIR);
  return {
    publicKey: readFileSync(join(KEY_DIR, KEY_FILE_NAMES.sealedPublic), 'utf8').trim(),
    pseudonymKey: readFileSync(join(KEY_DIR, KEY_FILE_NAMES.pseudonym), 'utf8').trim(),
  };
}

export async function runDemo(): Promise<number> {
  const { publicKey, pseudonymKey } = ensureKeys();
  const authToken = randomBytes(16).toString('hex');
  let server: RunningFunctions | undefined;
  const stop = async () => {
    await server?.stop();
  };
  const onSignal = () => {
    void stop().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    say('Starting the local Functions server (twilio-run) with only the PUBLIC key …');
    server = await startFunctions({
      env: { ACCOUNT_SID: `AC${randomBytes(16).toString('hex')}`, AUTH_TOKEN: authToken, SURVEY_PUBLIC_KEY: publicKey, SURVEY_PSEUDONYM_KEY: pseudonymKey },
    });
    const url = `${server.url}/encrypt`;
    say(`\n1. Studio's Run Function widget posts a respondent's answers to ${url}, signed with X-Twilio-Signature:`);
    for (const [k, v] of Object.entries(SAMPLE)) say(`     ${k.padEnd(12)} ${v}`);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signForm(authToken, url, SAMPLE) },
      body: new URLSearchParams(SAMPLE),
    });
    const sealed = (await res.json()) as Record<string, string>;
    if (res.status !== 200) throw new Error(`the encrypt Function answered ${res.status}`);
    say('\n2. The Function answers with sealed tokens: this is all Twilio, the flow and Google Sheets ever hold.');
    for (const [k, v] of Object.entries(sealed)) say(`     ${k.padEnd(14)} ${v.length > 90 ? `${v.slice(0, 87)}…` : v}`);
    const unsigned = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(SAMPLE) });
    say(`\n3. The same request without Twilio's signature is refused: HTTP ${unsigned.status}.`);
    const { keyring } = loadKeyFiles([join(KEY_DIR, KEY_FILE_NAMES.sealedPrivate)]);
    const opener = new Opener(keyring);
    const opened = opener.openResponse(Object.keys(SAMPLE).map((column) => ({ column, token: sealed[column] as string })));
    say(`\n4. On the analyst's machine, the private key (${join('.demo', 'keys', KEY_FILE_NAMES.sealedPrivate)}) opens them:`);
    opened.forEach((r, i) => say(`     ${String(Object.keys(SAMPLE)[i]).padEnd(12)} ${r.ok ? r.value : `error: ${r.error.message}`}`));
    say(`     respondent_id ${sealed.respondent_id} (a keyed hash: count respondents without decrypting)`);
    say('\nNext: `npm start` serves the Functions for your own flow; docs/FORMAT.md describes the tokens.');
    return opened.every((r) => r.ok) ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stop();
  }
}
