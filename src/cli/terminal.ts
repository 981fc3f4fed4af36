// Talking to a person on stderr: labels in colour (unless NO_COLOR or not a
// terminal), a progress line for long runs, and Ctrl-C at a prompt.

import { interrupt } from './common.js';

const useColor = (stream: NodeJS.WriteStream = process.stderr) => stream.isTTY === true && !('NO_COLOR' in process.env && process.env.NO_COLOR !== '');

/** `text` in colour `code` when `stream` (stderr by default) is a terminal and NO_COLOR is unset. */
export function paint(code: number, text: string, stream?: NodeJS.WriteStream): string {
  return useColor(stream) ? `\u001b[${code}m${text}\u001b[0m` : text;
}

/** "ok  " in green or "FAIL" in red, for a check's line on `stream`. */
export function verdict(ok: boolean, stream: NodeJS.WriteStream = process.stdout): string {
  return ok ? paint(32, 'ok  ', stream) : paint(31, 'FAIL', stream);
}

export function warn(message: string): void {
  process.stderr.write(`${paint(33, 'warning:')} ${message}\n`);
}

export function note(message: string): void {
  process.stderr.write(`${message}\n`);
}

const fmtInt = (n: number) => n.toLocaleString('en-US');

/** A progress line on stderr, redrawn at most 5 times a second; `done` clears it. */
export function progressLine(enabled: boolean) {
  const started = Date.now();
  let last = 0;
  let drawn = false;
  return {
    update({ bytes, total, records }: { bytes: number; total: number | undefined; records: number }) {
      if (!enabled) return;
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      const secs = Math.max(0.001, (now - started) / 1000);
      const mbps = bytes / 1e6 / secs;
      const parts = [`${fmtInt(records)} rows`, `${mbps.toFixed(1)} MB/s`];
      if (total) {
        const frac = Math.min(1, bytes / total);
        const width = 24;
        const filled = Math.round(frac * width);
        parts.unshift(`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%`);
        parts.push(`ETA ${Math.max(0, Math.round((total - bytes) / 1e6 / Math.max(mbps, 0.001)))}s`);
      }
      process.stderr.write(`\r${parts.join('  ')}\u001b[K`);
      drawn = true;
    },
    done() {
      if (drawn) process.stderr.write('\r\u001b[K');
    },
  };
}

/**
 * While a readline prompt is open the terminal is in raw mode, so Ctrl-C
 * arrives as a key (readline emits it on stdin), not as SIGINT: stop the
 * command as SIGINT would. Returns the undo.
 */
export function ctrlCInterrupts(): () => void {
  const onKey = (_text: string | undefined, key: { ctrl?: boolean; name?: string } | undefined) => {
    if (!key?.ctrl || key.name !== 'c') return;
    // The prompt is left unanswered: end its line, so the shell's prompt starts on its own.
    process.stdout.write('\n');
    interrupt();
  };
  process.stdin.on('keypress', onKey);
  return () => {
    process.stdin.off('keypress', onKey);
  };
}

export { fmtInt };
