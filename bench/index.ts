// `npm run bench`: every benchmark, each with its yardstick measured in the same run.
// BENCH_ONLY=encrypt|publish|e2e|decrypt-csv|launch|report|purge runs one; BENCH_QUICK=1 skips the 1 GB memory run.
import { benchDecryptCsv } from './decrypt-csv.js';
import { benchEndToEnd } from './e2e.js';
import { benchEncrypt } from './encrypt.js';
import { benchLaunch } from './launch.js';
import { benchPublish } from './publish.js';
import { benchReport } from './report.js';
import { benchPurge } from './purge.js';

const only = process.env.BENCH_ONLY;
console.log(`sealed-survey benchmarks — node ${process.version}, ${new Date().toISOString()}`);
if (!only || only === 'encrypt') await benchEncrypt();
if (!only || only === 'publish') await benchPublish();
if (!only || only === 'e2e') await benchEndToEnd();
if (!only || only === 'decrypt-csv') await benchDecryptCsv();
if (!only || only === 'launch') await benchLaunch();
if (!only || only === 'report') await benchReport();
if (!only || only === 'purge') await benchPurge();
console.log(`\nbenchmark process peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
