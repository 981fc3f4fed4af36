// The launch's progress on stderr: done of total, the achieved rate and the
// ETA, redrawn at most 5 times a second on a terminal; elsewhere (a log) a
// line every 10 seconds.

import { fmtInt } from '../cli/terminal.js';

const clock = (s: number) => (s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`);

/** `label` names the work (launch, purge). */
export function launchProgress(total: number, stream: NodeJS.WriteStream = process.stderr, label = 'launch') {
  const started = performance.now();
  const tty = stream.isTTY === true;
  let last = 0;
  let drawn = false;
  let done = 0;
  let failed = 0;
  const line = () => {
    const secs = Math.max(0.001, (performance.now() - started) / 1000);
    const rate = done / secs;
    const eta = rate > 0 ? clock((total - done) / rate) : '?';
    return `${label} ${fmtInt(done)}/${fmtInt(total)}  ${rate.toFixed(1)}/s  ETA ${eta}${failed > 0 ? `  ${fmtInt(failed)} failed` : ''}`;
  };
  return {
    settled(outcome: string) {
      done++;
      if (outcome === 'failed') failed++;
      const now = performance.now();
      if (now - last < (tty ? 200 : 10_000)) return;
      last = now;
      stream.write(tty ? `\r${line()}\u001b[K` : `${line()}\n`);
      drawn = tty;
    },
    /** Sends per second achieved so far. */
    rate: () => done / Math.max(0.001, (performance.now() - started) / 1000),
    done() {
      if (drawn) stream.write('\r\u001b[K');
    },
  };
}
