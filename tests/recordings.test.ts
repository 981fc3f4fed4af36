// Encrypted call recordings: the Python vectors (made independently, by
// Debian's python3-cryptography: tests/vectors/recordings/make_vectors.py)
// decrypted byte-exact by the real CLI; every way a recording can be wrong
// refused with nothing written; keygen --mode recording; and register and
// decrypt-recording against the Twilio stand-in through Prism.
import { execFileSync, spawn } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandArgs } from '../src/cli/command-args.js';
import { decryptToFile, unwrapCek } from '../src/recordings/decrypt.js';
import { parseEncryptionDetails } from '../src/recordings/details.js';
import { parseRecordingPrivateKey } from '../src/recordings/keys.js';
import { PROJECT_ROOT } from '../src/dev/functions-server.js';
import { runCli } from './helpers/cli.js';
import { startTwilioMocks, type TwilioMocks } from './helpers/prism.js';

const VECTORS = join(PROJECT_ROOT, 'tests', 'vectors', 'recordings');
const vector = (name: string) => join(VECTORS, name);
const VECTOR_KEY_SID = JSON.parse(readFileSync(vector('tone.callback.json'), 'utf8')).public_key_sid as string;
const tmp = () => mkdtempSync(join(tmpdir(), 'sealed-survey-rec-'));
const mode = (path: string) => statSync(path).mode & 0o777;
const otherSid = () => `CR${randomBytes(16).toString('hex')}`;

/** A private key file the test controls (0600, as keygen writes it). */
function keyCopy(dir: string, name = 'private-pkcs8.pem'): string {
  const path = join(dir, 'recording-private.pem');
  copyFileSync(vector(name), path);
  chmodSync(path, 0o600);
  return path;
}

const decryptFile = (dir: string, args: string[]) => runCli('sealed-survey', ['decrypt-recording', ...args], { cwd: dir });

describe('decrypt-recording --file (Python vectors)', () => {
  it('decrypts the vector byte-exact into a 0600 file, with the callback details and with the Recording resource', async () => {
    const dir = tmp();
    const key = keyCopy(dir);
    const res = await decryptFile(dir, ['--key-file', key, '--file', vector('tone.wav.enc'), '--details', vector('tone.callback.json'), '--out', 'a']);
    expect(res.stderr).toContain('decrypted');
    expect(res.code).toBe(0);
    const out = join(dir, 'a', 'tone.wav');
    expect(readFileSync(out).equals(readFileSync(vector('tone.wav')))).toBe(true);
    expect(mode(out)).toBe(0o600);
    expect(readdirSync(join(dir, 'a'))).toEqual(['tone.wav']);

    // The PKCS#1 form openssl genrsa writes, and the resource's own spelling (encryption_public_key_sid, encryption_cek).
    const pkcs1 = join(dir, 'pkcs1');
    mkdirSync(pkcs1);
    const key1 = join(pkcs1, 'k.pem');
    copyFileSync(vector('private-pkcs1.pem'), key1);
    chmodSync(key1, 0o600);
    const res1 = await decryptFile(dir, ['--key-file', key1, '--file', vector('tone.wav.enc'), '--details', vector('tone.recording.json'), '--out', 'b']);
    expect(res1.code).toBe(0);
    expect(readFileSync(join(dir, 'b', 'tone.wav')).equals(readFileSync(vector('tone.wav')))).toBe(true);
  });

  it('decrypts an empty recording (the tag alone) into an empty file', async () => {
    const dir = tmp();
    const res = await decryptFile(dir, ['--key-file', keyCopy(dir), '--file', vector('empty.wav.enc'), '--details', vector('empty.callback.json'), '--out', 'o']);
    expect(res.code).toBe(0);
    expect(readFileSync(join(dir, 'o', 'empty.wav'))).toHaveLength(0);
  });

  it('takes the private key from RECORDING_PRIVATE_KEY and never from the command line', async () => {
    const dir = tmp();
    const pem = readFileSync(vector('private-pkcs8.pem'), 'utf8');
    const env = await runCli('sealed-survey', ['decrypt-recording', '--file', vector('tone.wav.enc'), '--details', vector('tone.callback.json'), '--out', 'o'], { cwd: dir, env: { RECORDING_PRIVATE_KEY: pem } });
    expect(env.code).toBe(0);
    expect(readFileSync(join(dir, 'o', 'tone.wav')).equals(readFileSync(vector('tone.wav')))).toBe(true);
    const argv = await decryptFile(dir, ['--key-file', pem, '--file', vector('tone.wav.enc'), '--details', vector('tone.callback.json'), '--out', 'p']);
    expect(argv.code).toBe(2);
    expect(argv.stderr).toMatch(/never on the command line/);
    expect(argv.stderr).not.toContain(pem.split('\n')[1]);
    expect(existsSync(join(dir, 'p', 'tone.wav'))).toBe(false);
  });

  const refusals: Array<[string, (enc: Buffer) => Buffer, RegExp]> = [
    ['a flipped byte in the audio', (enc) => Buffer.concat([enc.subarray(0, 5000), Buffer.from([enc[5000]! ^ 1]), enc.subarray(5001)]), /integrity check/],
    ['a flipped byte in the tag', (enc) => Buffer.concat([enc.subarray(0, -1), Buffer.from([enc.at(-1)! ^ 0x80])]), /integrity check/],
    ['the last byte cut off', (enc) => enc.subarray(0, -1), /integrity check/],
    ['the tag cut off', (enc) => enc.subarray(0, -16), /integrity check/],
    ['a file shorter than the tag', (enc) => enc.subarray(0, 10), /truncated/],
  ];
  for (const [what, damage, message] of refusals) {
    it(`refuses a recording with ${what}, exit 1, and writes nothing`, async () => {
      const dir = tmp();
      const enc = join(dir, 'RE.wav.enc');
      writeFileSync(enc, damage(readFileSync(vector('tone.wav.enc'))));
      const res = await decryptFile(dir, ['--key-file', keyCopy(dir), '--file', enc, '--details', vector('tone.callback.json'), '--out', 'o']);
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(message);
      expect(res.stderr).toContain('nothing was written');
      expect(readdirSync(join(dir, 'o'))).toEqual([]);
    });
  }

  it('refuses the wrong private key, naming the key the recording was encrypted for, and writes nothing', async () => {
    const dir = tmp();
    const wrong = join(dir, 'wrong.pem');
    writeFileSync(wrong, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    const res = await decryptFile(dir, ['--key-file', wrong, '--file', vector('tone.wav.enc'), '--details', vector('tone.callback.json'), '--out', 'o']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`encrypted for public key ${VECTOR_KEY_SID}`);
    expect(readdirSync(join(dir, 'o'))).toEqual([]);
  });

  it('refuses a recording encrypted for another public key SID than expected (16107), before opening it', async () => {
    const dir = tmp();
    const expected = otherSid();
    const res = await decryptFile(dir, ['--key-file', keyCopy(dir), '--public-key-sid', expected, '--file', vector('tone.wav.enc'), '--details', vector('tone.callback.json'), '--out', 'o']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`encrypted for public key ${VECTOR_KEY_SID}, not for ${expected}`);
    expect(res.stderr).toContain('16107');
    expect(readdirSync(join(dir, 'o'))).toEqual([]);
  });

  it('never overwrites an existing output', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'o'));
    writeFileSync(join(dir, 'o', 'tone.wav'), 'mine');
    const res = await decryptFile(dir, ['--key-file', keyCopy(dir), '--file', vector('tone.wav.enc'), '--details', vector('tone.callback.json'), '--out', 'o']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/already exists; refusing to overwrite/);
    expect(readFileSync(join(dir, 'o', 'tone.wav'), 'utf8')).toBe('mine');
    expect(readdirSync(join(dir, 'o'))).toEqual(['tone.wav']);
  });

  it('answers usage errors with exit 2 and help with examples and exit codes', async () => {
    const dir = tmp();
    const none = await decryptFile(dir, ['--key-file', keyCopy(dir)]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/say which recordings/);
    const noDetails = await decryptFile(dir, ['--key-file', keyCopy(dir), '--file', vector('tone.wav.enc')]);
    expect(noDetails.code).toBe(2);
    expect(noDetails.stderr).toMatch(/--file needs --details/);
    const noCredentials = await runCli('sealed-survey', ['recording-key', 'register', '--public-key', vector('public.pem')], { cwd: dir });
    expect(noCredentials.code).toBe(2);
    expect(noCredentials.stderr).toContain('TWILIO_ACCOUNT_SID is not set');
    const registerHelp = await runCli('sealed-survey', ['recording-key', 'register', '--help'], { cwd: dir });
    expect(registerHelp.code).toBe(0);
    expect(registerHelp.stdout).toMatch(/Examples:[\s\S]*Exit codes: 0 /);
    const help = await decryptFile(dir, ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Examples:/);
    expect(help.stdout).toMatch(/Exit codes: 0 .*1 .*2 .*130/);
  });
});

describe('decryptToFile streaming', () => {
  async function* pieces(data: Buffer, sizes: readonly number[]): AsyncGenerator<Buffer> {
    let at = 0;
    for (let i = 0; at < data.length; i++) {
      const n = sizes[i % sizes.length]!;
      yield data.subarray(at, at + n);
      at += n;
    }
  }
  const details = parseEncryptionDetails(readFileSync(vector('tone.callback.json'), 'utf8'), 'vector');
  const cek = unwrapCek(parseRecordingPrivateKey(readFileSync(vector('private-pkcs8.pem'), 'utf8'), 'vector'), details, 'vector');

  it('gives the same plaintext whatever the chunks, the tag split across them included', async () => {
    const dir = tmp();
    const enc = readFileSync(vector('tone.wav.enc'));
    for (const [i, sizes] of [[1], [7, 15, 16, 17], [enc.length - 5, 3, 2], [4096], [enc.length]].entries()) {
      const out = join(dir, `${i}.wav`);
      const written = await decryptToFile(pieces(enc, sizes), cek, details, out, 'vector');
      expect(written.bytes).toBe(readFileSync(vector('tone.wav')).length);
      expect(readFileSync(out).equals(readFileSync(vector('tone.wav')))).toBe(true);
    }
  });

  it('refuses a tampered stream in any chunking and leaves no file', async () => {
    const dir = tmp();
    const enc = Buffer.from(readFileSync(vector('tone.wav.enc')));
    enc[enc.length - 20] = enc[enc.length - 20]! ^ 4;
    await expect(decryptToFile(pieces(enc, [7, 9]), cek, details, join(dir, 'x.wav'), 'vector')).rejects.toThrow(/integrity check/);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('keygen --mode recording', () => {
  it('writes a 0600 RSA-2048 private key and its public key, and refuses to overwrite them', async () => {
    const dir = tmp();
    const res = await runCli('sealed-survey', ['keygen', '--mode', 'recording', '--out', dir]);
    expect(res.code).toBe(0);
    const priv = join(dir, 'recording-private.pem');
    const pub = join(dir, 'recording-public.pem');
    expect(mode(priv)).toBe(0o600);
    expect(readFileSync(priv, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(readFileSync(pub, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    const publicKey = createPublicKey(readFileSync(pub, 'utf8'));
    expect(publicKey.asymmetricKeyType).toBe('rsa');
    expect(publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(createPublicKey(readFileSync(priv, 'utf8')).export({ format: 'pem', type: 'spki' })).toBe(readFileSync(pub, 'utf8'));
    expect(res.stdout + res.stderr).not.toContain('PRIVATE KEY-----');
    const before = readFileSync(priv, 'utf8');
    const again = await runCli('sealed-survey', ['keygen', '--mode', 'recording', '--out', dir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/refusing to overwrite/);
    expect(readFileSync(priv, 'utf8')).toBe(before);
    const small = await runCli('sealed-survey', ['keygen', '--mode', 'recording', '--bits', '1024', '--out', tmp()]);
    expect(small.code).toBe(2);
  });
});

describe('recording-key register and decrypt-recording through the Twilio API (stand-in behind Prism)', () => {
  let mocks: TwilioMocks;
  let dir: string;
  let keySid: string;
  const callA = `CA${randomBytes(16).toString('hex')}`;
  const callB = `CA${randomBytes(16).toString('hex')}`;
  const audio = (n: number) => Buffer.concat([readFileSync(vector('tone.wav')), Buffer.from(`take ${n}`)]);
  const cli = (args: string[]) => runCli('sealed-survey', args, { cwd: dir, env: mocks.env });

  beforeAll(async () => {
    mocks = await startTwilioMocks();
    dir = tmp();
    expect((await runCli('sealed-survey', ['keygen', '--mode', 'recording', '--out', join(dir, 'keys')])).code).toBe(0);
  });

  afterAll(async () => {
    const violations = mocks ? await mocks.violations() : [];
    await mocks?.stop();
    expect(violations).toEqual([]);
  });

  it('register creates the PublicKey credential, prints its SID and the Console step, and remembers it beside the key', async () => {
    const res = await cli(['recording-key', 'register', '--public-key', 'keys/recording-public.pem', '--friendly-name', 'survey recordings']);
    expect(res.stderr).toContain('Voice Recording Encryption');
    expect(res.code).toBe(0);
    const keys = mocks.server.publicKeys();
    expect(keys).toHaveLength(1);
    keySid = keys[0]!.sid;
    expect(res.stdout.trim()).toBe(keySid);
    expect(keys[0]!.friendlyName).toBe('survey recordings');
    expect(keys[0]!.publicKey).toBe(readFileSync(join(dir, 'keys', 'recording-public.pem'), 'utf8'));
    expect(res.stderr).toContain(`choose the public key ${keySid}`);
    const info = JSON.parse(readFileSync(join(dir, 'keys', 'recording-key.json'), 'utf8'));
    expect(info.public_key_sid).toBe(keySid);
    // Registering the same key again is refused, and Twilio is not asked.
    const again = await cli(['recording-key', 'register', '--public-key', 'keys/recording-public.pem']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`already registered as ${keySid}`);
    expect(mocks.server.publicKeys()).toHaveLength(1);
    // A private key is never uploaded.
    const priv = await cli(['recording-key', 'register', '--public-key', 'keys/recording-private.pem']);
    expect(priv.code).toBe(1);
    expect(priv.stderr).toMatch(/PRIVATE key: never upload it/);
    expect(mocks.server.publicKeys()).toHaveLength(1);
  });

  it('fetches a call\'s recordings, or one by SID, and decrypts each byte-exact into 0600 files', async () => {
    const publicKey = readFileSync(join(dir, 'keys', 'recording-public.pem'), 'utf8');
    const day = Date.parse('2026-05-02T10:00:00Z');
    const sidsA = [1, 2, 3].map((n) => mocks.server.addRecording({ callSid: callA, media: audio(n), encryptWith: { publicKeySid: keySid, publicKey }, dateCreated: day + n * 60_000 }));
    const sidB = mocks.server.addRecording({ callSid: callB, media: audio(9), encryptWith: { publicKeySid: keySid, publicKey }, dateCreated: Date.parse('2026-06-01T10:00:00Z') });
    // What Twilio serves is ciphertext: the audio is not in it.
    expect(mocks.server.recordings().find((r) => r.sid === sidB)!.served!.includes(Buffer.from('take 9'))).toBe(false);

    const byCall = await cli(['decrypt-recording', '--key-file', 'keys/recording-private.pem', '--call-sid', callA, '--out', 'call-a']);
    expect(byCall.stderr).toContain('decrypted 3 of 3 recordings');
    expect(byCall.code).toBe(0);
    expect(readdirSync(join(dir, 'call-a')).sort()).toEqual(sidsA.map((s) => `${s}.wav`).sort());
    for (const [i, sid] of sidsA.entries()) {
      const out = join(dir, 'call-a', `${sid}.wav`);
      expect(readFileSync(out).equals(audio(i + 1))).toBe(true);
      expect(mode(out)).toBe(0o600);
    }
    const big = randomBytes(3 * 1024 * 1024 + 5);
    const sidBig = mocks.server.addRecording({ callSid: callB, media: big, encryptWith: { publicKeySid: keySid, publicKey }, dateCreated: Date.parse('2026-06-01T11:00:00Z') });
    const bySid = await cli(['decrypt-recording', '--key-file', 'keys/recording-private.pem', '--recording-sid', sidB, '--recording-sid', sidBig, '--out', 'one']);
    expect(bySid.code).toBe(0);
    expect(readFileSync(join(dir, 'one', `${sidB}.wav`)).equals(audio(9))).toBe(true);
    // A recording of several MB arrives in many chunks: streamed through the decryption, byte-exact.
    expect(readFileSync(join(dir, 'one', `${sidBig}.wav`)).equals(big)).toBe(true);
    const unknown = `RE${randomBytes(16).toString('hex')}`;
    const missing = await cli(['decrypt-recording', '--key-file', 'keys/recording-private.pem', '--recording-sid', unknown, '--out', 'none']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`fetching ${unknown}: not found on this account`);
    // A date range: only May's recordings.
    const byDate = await cli(['decrypt-recording', '--key-file', 'keys/recording-private.pem', '--since', '2026-05-01', '--until', '2026-05-31', '--out', 'may']);
    expect(byDate.code).toBe(0);
    expect(readdirSync(join(dir, 'may')).sort()).toEqual(sidsA.map((s) => `${s}.wav`).sort());
    const requests = mocks.server.requests().filter((r) => r.path.includes('/Recordings.json'));
    expect(requests.some((r) => decodeURIComponent(r.query).includes('DateCreated>=2026-05-01T00:00:00Z'))).toBe(true);
  });

  it('a dropped download is refused with nothing written, and the next run gets it', async () => {
    const publicKey = readFileSync(join(dir, 'keys', 'recording-public.pem'), 'utf8');
    const sid = mocks.server.addRecording({ callSid: callB, media: audio(30), encryptWith: { publicKeySid: keySid, publicKey } });
    mocks.server.setFaults({ kinds: ['reset'], count: 1, only: { path: /\/Recordings\/RE[0-9a-f]{32}\.wav$/ } });
    const dropped = await cli(['decrypt-recording', '--key-file', 'keys/recording-private.pem', '--recording-sid', sid, '--out', 'dropped']);
    expect(dropped.code).toBe(1);
    expect(dropped.stderr).toContain(`${sid}: the download failed`);
    expect(readdirSync(join(dir, 'dropped'))).toEqual([]);
    const again = await cli(['decrypt-recording', '--key-file', 'keys/recording-private.pem', '--recording-sid', sid, '--out', 'dropped']);
    expect(again.code).toBe(0);
    expect(readFileSync(join(dir, 'dropped', `${sid}.wav`)).equals(audio(30))).toBe(true);
  });

  it('refuses, one by one, a recording for another key (16107), one tampered in storage, one Twilio could not store (16105) and one not encrypted; the good one is written', async () => {
    const publicKey = readFileSync(join(dir, 'keys', 'recording-public.pem'), 'utf8');
    const call = `CA${randomBytes(16).toString('hex')}`;
    const good = mocks.server.addRecording({ callSid: call, media: audio(20), encryptWith: { publicKeySid: keySid, publicKey } });
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    const other = mocks.server.addRecording({ callSid: call, media: audio(21), encryptWith: { publicKeySid: otherSid(), publicKey: otherKey } });
    const tampered = mocks.server.addRecording({ callSid: call, media: audio(22), encryptWith: { publicKeySid: keySid, publicKey } });
    const stored = mocks.server.recordings().find((r) => r.sid === tampered)!.served!;
    stored[100] = stored[100]! ^ 1; // the stand-in serves this very buffer
    const absent = mocks.server.addRecording({ callSid: call, media: Buffer.alloc(0), status: 'absent', errorCode: 16105 });
    const plain = mocks.server.addRecording({ callSid: call, media: audio(23) });

    const res = await cli(['decrypt-recording', '--key-file', 'keys/recording-private.pem', '--call-sid', call, '--out', 'mixed']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('decrypted 1 of 5 recordings');
    expect(res.stderr).toMatch(new RegExp(`${other}: encrypted for public key CR[0-9a-f]{32}, not for ${keySid}.*16107`));
    expect(res.stderr).toMatch(new RegExp(`${tampered}: the recording failed its integrity check`));
    expect(res.stderr).toMatch(new RegExp(`${absent}: Twilio did not store it \\(error 16105\\)`));
    expect(res.stderr).toMatch(new RegExp(`${plain}: the recording is not encrypted`));
    expect(readdirSync(join(dir, 'mixed'))).toEqual([`${good}.wav`]);
    expect(readFileSync(join(dir, 'mixed', `${good}.wav`)).equals(audio(20))).toBe(true);
    // Nothing is downloaded for recordings refused on their details alone.
    const media = mocks.server.requests().filter((r) => /\/Recordings\/RE[0-9a-f]{32}\.wav$/.test(r.path)).map((r) => r.path);
    for (const sid of [other, absent, plain]) expect(media.some((p) => p.includes(sid))).toBe(false);
  });
});

describe('decrypt-recording stopped early', () => {
  it('Ctrl-C while decrypting exits 130 and removes the partial plaintext', async () => {
    const dir = tmp();
    const fifo = join(dir, 'RE.wav.enc');
    execFileSync('mkfifo', [fifo]);
    const child = spawn(process.execPath, [...commandArgs(join(PROJECT_ROOT, 'dist', 'cli'), 'sealed-survey'), 'decrypt-recording', '--key-file', keyCopy(dir), '--file', fifo, '--details', vector('tone.callback.json'), '--out', 'o'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let exited = false;
    const closed = new Promise<number | null>((ok) =>
      child.on('close', (code) => {
        exited = true;
        ok(code);
      }),
    );
    const enc = readFileSync(vector('tone.wav.enc'));
    const writer = await open(fifo, 'w');
    await writer.write(enc.subarray(0, 8000));
    // Wait (on the file system) until decrypted bytes sit in the temp file.
    await expect.poll(() => readdirSync(join(dir, 'o')).filter((f) => f.endsWith('.partial') && statSync(join(dir, 'o', f)).size > 0).length, { timeout: 20_000 }).toBe(1);
    child.kill('SIGINT');
    // A read from a FIFO cannot be cancelled: feed it small pieces (never the whole file, so it cannot finish) until it sees the stop.
    for (let at = 8000; !exited && at < enc.length - 64; at += 16) {
      try {
        await writer.write(enc.subarray(at, at + 16));
      } catch (error) {
        // The command closed its end of the FIFO before its 'close' event reached us: it has stopped.
        if ((error as NodeJS.ErrnoException).code === 'EPIPE') break;
        throw error;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await closed).toBe(130);
    await writer.close().catch(() => {});
    // Quietly, as every command stops: no error, no stack.
    expect(stderr).not.toMatch(/error|unexpected|Abort|at .*\.js:\d+/i);
    expect(readdirSync(join(dir, 'o'))).toEqual([]);
  });
});
