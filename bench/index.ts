// `npm run bench`: every benchmark, each with its yardstick measured in the same run.
import { benchEncrypt } from './encrypt.js';

console.log(`sealed-survey benchmarks — node ${process.version}, ${new Date().toISOString()}`);
await benchEncrypt();
console.log(`\nbenchmark process peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
