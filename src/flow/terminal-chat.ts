import { createInterface } from 'node:readline/promises';
import type { Widget } from './definition.js';
import { RecordingChat } from './respondents.js';
import { BUSY, DELIVERY_FAILURE, HANGUP, NO_ANSWER, TIMEOUT } from './runner.js';

/** The person at the terminal answers (on a call: digits are keys pressed, other text is speech); /timeout and /fail stand for silence and a failed delivery; on a call /hangup hangs up, and an outgoing call is /no-answer or /busy. */
export class TerminalChat extends RecordingChat {
  private readonly rl = createInterface({ input: process.stdin, output: process.stdout });
  override send(body: string, widget: string): void {
    super.send(body, widget);
    process.stdout.write(`\n\x1b[36m${body}\x1b[0m\n`);
  }
  override note(text: string, widget: string): void {
    super.note(text, widget);
    process.stdout.write(`\x1b[2m(${text})\x1b[0m\n`);
  }
  protected async answer(_widget: Widget): Promise<string> {
    const text = await this.rl.question('> ');
    const commands: Readonly<Record<string, string>> = { '/timeout': TIMEOUT, '/fail': DELIVERY_FAILURE, '/hangup': HANGUP, '/no-answer': NO_ANSWER, '/busy': BUSY };
    return commands[text] ?? text;
  }
  close(): void {
    this.rl.close();
  }
}

