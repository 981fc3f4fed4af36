import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Opener, sealResponse } from '../src/envelope/index.js';
import { loadKeyFiles } from '../src/keys/files.js';
import { parsePublicKey } from '../src/keys/keys.js';
import { runCli } from './helpers/cli.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'sealed-survey-keys-'));

describe('sealed-survey keygen', () => {
  it('writes a 0600 private key and prints a SURVEY_PUBLIC_KEY line that seals for it', async () => {
    const dir = tmp();
    const res = await runCli('sealed-survey', ['keygen', '--out', dir]);
    expect(res.code).toBe(0);
    const line = res.stdout.trim();
    expect(line).toMatch(/^SURVEY_PUBLIC_KEY=sspk1\.[A-Za-z0-9_-]{43}$/);
    const privatePath = join(dir, 'survey-private.pem');
    expect(statSync(privatePath).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'survey-public.txt'), 'utf8').trim()).toBe(line.slice('SURVEY_PUBLIC_KEY='.length));
    const recipient = parsePublicKey(line.slice('SURVEY_PUBLIC_KEY='.length));
    expect(res.stderr).toContain(`key id ${recipient.kid}`);
    expect(res.stdout + res.stderr).not.toContain('BEGIN PRIVATE KEY');
    const token = sealResponse([['name', 'Ann']], recipient).get('name') as string;
    const { keyring, warnings } = loadKeyFiles([privatePath]);
    expect(warnings).toEqual([]);
    expect(new Opener(keyring).openToken(token).value).toBe('Ann');
  });

  it('refuses to overwrite an existing key and changes nothing', async () => {
    const dir = tmp();
    expect((await runCli('sealed-survey', ['keygen', '--out', dir])).code).toBe(0);
    const before = readFileSync(join(dir, 'survey-private.pem'), 'utf8');
    const again = await runCli('sealed-survey', ['keygen', '--out', dir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exist.*refusing to overwrite/);
    expect(again.stdout).toBe('');
    expect(readFileSync(join(dir, 'survey-private.pem'), 'utf8')).toBe(before);
  });

  it('writes a shared key that is printed nowhere', async () => {
    const dir = tmp();
    const res = await runCli('sealed-survey', ['keygen', '--mode', 'shared', '--out', dir]);
    expect(res.code).toBe(0);
    const key = readFileSync(join(dir, 'survey-secret.key'), 'utf8').trim();
    expect(Buffer.from(key, 'base64')).toHaveLength(32);
    expect(statSync(join(dir, 'survey-secret.key')).mode & 0o777).toBe(0o600);
    expect(res.stdout + res.stderr).not.toContain(key);
  });

  it('answers usage errors with exit 2 and shows an example in --help', async () => {
    const bad = await runCli('sealed-survey', ['keygen', '--mode', 'rsa']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--mode must be one of sealed, shared, pseudonym');
    const help = await runCli('sealed-survey', ['keygen', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('$ sealed-survey keygen --out keys');
    expect((await runCli('sealed-survey', ['no-such-command'])).code).toBe(2);
  });
});

describe('loading key files', () => {
  it('warns when a key file is readable by others', async () => {
    const dir = tmp();
    await runCli('sealed-survey', ['keygen', '--out', dir]);
    const path = join(dir, 'survey-private.pem');
    chmodSync(path, 0o644);
    expect(loadKeyFiles([path]).warnings[0]).toMatch(/can be read by other users.*chmod 600/);
  });

  it('names the problem for a missing file, a public key and garbage', () => {
    const dir = tmp();
    expect(() => loadKeyFiles([join(dir, 'nope.pem')])).toThrow(/does not exist/);
    writeFileSync(join(dir, 'pub.txt'), 'sspk1.aEHPL-U08JgzlcMPGbJk1Vsjw33LVY1-lWz0ZTtvE1s\n');
    expect(() => loadKeyFiles([join(dir, 'pub.txt')])).toThrow(/public key, which can only seal/);
    writeFileSync(join(dir, 'junk.key'), 'hello world\n');
    expect(() => loadKeyFiles([join(dir, 'junk.key')])).toThrow(/not a sealed-survey key/);
  });
});
