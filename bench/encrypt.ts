// Benchmark of the encrypt Function on the real local server (twilio-run),
// against a crypto-only yardstick measured in the same run.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { PROJECT_ROOT, SERVICE_DIR, startFunctions } from '../src/dev/functions-server.js';
import { sealResponse } from '../src/envelope/index.js';
import { formatSharedKey, newSealedKeyPair, newSharedKey, recipientOf } from '../src/keys/keys.js';
import { signForm } from '../src/twilio/signature.js';
import { fmt, peakRssMb, row, summarize } from './stats.js';

const FIELDS: Record<string, string> = {
  respondent: 'whatsapp:+254700123456',
  full_name: 'María José Wanjiru Ñúñez',
  national_id: '12345678',
  phone: '+254 711 222 333',
  address: 'Plot 12, Kisumu Road, Nairobi',
  notes: 'Free text answer with, commas and "quotes" 🌽',
};

function coldLoadMs(runs: number): number[] {
  const file = join(SERVICE_DIR, 'functions', 'encrypt.protected.js');
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  return Array.from({ length: runs }, () => Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })));
}

function cryptoOnlyUs(iterations: number): number {
  const recipient = recipientOf(newSealedKeyPair());
  const entries = Object.entries(FIELDS);
  for (let i = 0; i < 200; i++) sealResponse(entries, recipient);
  const t = performance.now();
  for (let i = 0; i < iterations; i++) sealResponse(entries, recipient);
  return ((performance.now() - t) * 1000) / iterations;
}

async function load(url: string, token: string, concurrency: number, total: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const body = new URLSearchParams(FIELDS).toString();
  const headers = {
    'content-type': 'application/x-www-form-urlencoded',
    'content-length': String(Buffer.byteLength(body)),
    'x-twilio-signature': signForm(token, url, FIELDS),
  };
  const latencies: number[] = [];
  let sent = 0;
  const one = () =>
    new Promise<void>((ok, fail) => {
      const t = performance.now();
      const req = request(url, { method: 'POST', headers, agent }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200) fail(new Error(`status ${res.statusCode}`));
          latencies.push(performance.now() - t);
          ok();
        });
      });
      req.on('error', fail);
      req.end(body);
    });
  const worker = async () => {
    while (sent < total) {
      sent++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return latencies;
}

export async function benchEncrypt(): Promise<void> {
  console.log('\nencrypt Function (6 fields, sealed mode, local twilio-run, signed requests)');
  const cold = summarize(coldLoadMs(15));
  row('cold module load of the built handler, p50', `${fmt(cold.p50, 1)} ms`, 'target <= 150 ms');
  row('cold module load, worst of 15', `${fmt(cold.max, 1)} ms`);
  const cryptoUs = cryptoOnlyUs(2000);
  row('yardstick: sealResponse in-process, per call', `${fmt(cryptoUs, 0)} us`);

  // A copy of build/ with a no-op Function: the local server's own floor, measured alongside.
  // Inside the project, so twilio-run finds @twilio/runtime-handler as it does for build/.
  mkdirSync(join(PROJECT_ROOT, 'node_modules', '.cache'), { recursive: true });
  const serviceDir = mkdtempSync(join(PROJECT_ROOT, 'node_modules', '.cache', 'sealed-survey-bench-'));
  cpSync(SERVICE_DIR, serviceDir, { recursive: true });
  writeFileSync(join(serviceDir, 'functions', 'noop.js'), 'exports.handler = (context, event, callback) => callback(null, {});\n');
  const token = 'bench-auth-token-0123456789abcdef';
  const server = await startFunctions({
    serviceDir,
    env: { ACCOUNT_SID: `AC${'0'.repeat(32)}`, AUTH_TOKEN: token, SURVEY_PUBLIC_KEY: newSealedKeyPair().publicKeyText, SURVEY_PSEUDONYM_KEY: formatSharedKey(newSharedKey()) },
  });
  try {
    const url = `${server.url}/encrypt`;
    const noop = `${server.url}/noop`;
    await load(url, token, 10, 300); // warm-up
    await load(noop, token, 10, 300);
    for (const [concurrency, total] of [[1, 500], [50, 3000]] as const) {
      const base = summarize(await load(noop, token, concurrency, total));
      const s = summarize(await load(url, token, concurrency, total));
      row(`no-op Function at concurrency ${concurrency}, p50 / p99`, `${fmt(base.p50)} / ${fmt(base.p99)} ms`, 'yardstick: the server alone');
      row(`encrypt at concurrency ${concurrency}, p50`, `${fmt(s.p50)} ms`, `${fmt(s.p50 / base.p50, 1)}x no-op`);
      row(`encrypt at concurrency ${concurrency}, p99`, `${fmt(s.p99)} ms`, `${fmt(s.p99 / base.p99, 1)}x no-op${concurrency === 50 ? '; target <= 25 ms' : ''}`);
    }
    row('peak RSS of the Functions server', `${fmt(peakRssMb(server.pid), 0)} MB`);
  } finally {
    await server.stop();
    rmSync(serviceDir, { recursive: true, force: true });
  }
}
