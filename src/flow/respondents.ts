// Who answers the flow in a simulation: a script from a file, a generator
// that draws answers from the flow's own valid choices (and sometimes not, to
// exercise re-asks), or a person at the terminal. Each records a transcript.

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { prng } from '../dev/prng.js';
import { conditionHolds } from './conditions.js';
import { STOP_WORDS } from './survey-checks.js';
import { FlowError, widgetsByName, type FlowDefinition, type Transition, type Widget } from './definition.js';
import { BUSY, HANGUP, NO_ANSWER, TIMEOUT, type Chat, type Trigger } from './runner.js';

export interface TranscriptLine {
  /** simulator: what the runner did that the respondent does not see (stubs, hand-offs, messages to others). */
  readonly from: 'flow' | 'respondent' | 'simulator';
  readonly widget: string;
  readonly text: string;
}

/** A chat that records what was said, both ways. */
export abstract class RecordingChat implements Chat {
  readonly transcript: TranscriptLine[] = [];
  send(body: string, widget: string): void {
    this.transcript.push({ from: 'flow', widget, text: body });
  }
  note(text: string, widget: string): void {
    this.transcript.push({ from: 'simulator', widget, text });
  }
  async reply(widget: Widget, question: string): Promise<string> {
    const answer = await this.answer(widget, question);
    this.transcript.push({ from: 'respondent', widget: widget.name, text: answer });
    return answer;
  }
  protected abstract answer(widget: Widget, question: string): Promise<string>;
}

const ScriptSchema = z.array(
  z.object({
    from: z.string().min(3),
    trigger: z.enum(['message', 'rest', 'conversation', 'call', 'parent']).default('message'),
    message: z.string().default('Hi'),
    data: z.record(z.string(), z.unknown()).default({}),
    parameters: z.record(z.string(), z.unknown()).default({}),
    replies: z.array(z.string()),
  }),
);
export type ScriptedRespondent = z.infer<typeof ScriptSchema>[number];

export function readScript(path: string): ScriptedRespondent[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new FlowError(`cannot read the answers file ${path} (${error instanceof SyntaxError ? 'not JSON' : 'missing or unreadable'}): it is a JSON list like [{"from": "whatsapp:+254700000001", "replies": ["yes", "…"]}]`);
  }
  const parsed = ScriptSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FlowError(`${path}: respondent ${String(issue?.path[0] ?? '?')} is not valid (${issue?.path.slice(1).join('.') || 'entry'}: ${issue?.message}); each is {"from", "trigger"?: "message"|"rest"|"conversation"|"call"|"parent", "message"?, "data"? (rest), "parameters"? (parent), "replies": [...]}; "${TIMEOUT}" stands for no answer, digits (and * #) are keys pressed on a call and other text is speech; on a call "${HANGUP}" hangs up, and an outgoing call is "${NO_ANSWER}", "${BUSY}", or picked up with anything else`);
  }
  return parsed.data;
}

export function triggerOf(r: Pick<ScriptedRespondent, 'from' | 'trigger' | 'message' | 'data' | 'parameters'>): Trigger {
  switch (r.trigger) {
    case 'rest':
      return { kind: 'rest', to: r.from, data: r.data };
    case 'conversation':
      return { kind: 'conversation', from: r.from, body: r.message };
    case 'call':
      return { kind: 'call', from: r.from };
    case 'parent':
      return { kind: 'parent', from: r.from, parameters: r.parameters };
    case 'message':
      return { kind: 'message', from: r.from, body: r.message };
  }
}

export class ScriptedChat extends RecordingChat {
  private next = 0;
  constructor(private readonly replies: readonly string[]) {
    super();
  }
  protected async answer(): Promise<string> {
    const reply = this.replies[this.next++];
    // A script that runs out behaves like a respondent who stopped answering.
    return reply ?? TIMEOUT;
  }
  get unused(): number {
    return Math.max(0, this.replies.length - this.next);
  }
}

/** Seeded, so a generated run can be replayed. */
export const rng = prng;

const FIRST = ['Amina', 'Brian', 'Chebet', 'David', 'Esther', 'Faith', 'Grace', 'Hassan', 'Irene', 'Joseph', 'Kamau', 'Lydia'];
const LAST = ['Wanjiru', 'Otieno', 'Mwangi', 'Achieng', 'Kiprop', 'Njeri', 'Mutua', 'Ochieng', 'Wambui', 'Kibet'];
const WORDS = ['the clinic was clean', 'waiting took long', 'staff were kind', 'medicine ran out', 'good service', 'far from home'];

export interface GeneratorOptions {
  readonly random: () => number;
  /** Share of answers that are invalid where the flow validates (re-asks). */
  readonly invalidRate?: number;
  /** Share of questions left unanswered until the time-out. */
  readonly timeoutRate?: number;
  /** Widgets whose answers are personal data (the generator records them, so tests can look for leaks). */
  readonly piiWidgets?: ReadonlySet<string>;
}

/** Answers drawn from the flow: a value some `match` transition of the following split accepts. */
export class GeneratedChat extends RecordingChat {
  private readonly widgets: Map<string, Widget>;
  /** Every personal-data answer this respondent typed. */
  readonly piiTyped: string[] = [];
  constructor(
    flow: FlowDefinition,
    private readonly options: GeneratorOptions,
  ) {
    super();
    this.widgets = widgetsByName(flow);
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.options.random() * items.length)] as T;
  }

  private candidates(): string[] {
    const r = this.options.random;
    const numbers = [1, 2, 3, 4, 5, 6, 18 + Math.floor(r() * 60), Math.floor(r() * 120)].map(String);
    const id = String(10_000_000 + Math.floor(r() * 89_999_999));
    return [...numbers, id, 'yes', 'no', 'Yes', 'y', 'n', `${this.pick(FIRST)} ${this.pick(LAST)}`];
  }

  /** Keys for a TwiML Redirect to voice-gather: as many digits as its URL asks for (a spoken answer when it takes speech only). */
  private keyed(widget: Widget): string {
    const url = typeof widget.properties.url === 'string' ? widget.properties.url : '';
    const param = (name: string) => /^\d+$/.exec(new URLSearchParams(url.split('?')[1] ?? '').get(name) ?? '')?.[0];
    if (/[?&]input=speech(&|$)/.test(url)) return `${this.pick(WORDS)}, ${this.pick(WORDS)}`;
    const min = Number(param('min_digits') ?? 1);
    const length = min + Math.floor(this.options.random() * (Number(param('max_digits') ?? min) - min + 1));
    return Array.from({ length }, () => String(Math.floor(this.options.random() * 10))).join('');
  }

  private valid(widget: Widget): string {
    if (widget.type === 'add-twiml-redirect') return this.keyed(widget);
    // The split that checks this answer: next, or after Set Variables that copy or normalise it (on a call: after the keys).
    const event = widget.type === 'gather-input-on-call' ? 'keypress' : 'incomingMessage';
    let split = this.widgets.get(widget.transitions.find((t) => t.event === event)?.next ?? '');
    for (let hops = 0; split?.type === 'set-variables' && hops < 5; hops++) split = this.widgets.get(split.transitions.find((t) => t.event === 'next')?.next ?? '');
    // An opt-out branch (stop words) is not an answer: a generated respondent completes the survey.
    const optOut = (t: Transition) =>
      (t.conditions ?? []).every((c) => c.value.split(',').every((v) => STOP_WORDS.some((w) => w.toLowerCase() === v.trim().toLowerCase())));
    const matches = split?.type === 'split-based-on' ? split.transitions.filter((t) => t.event !== 'noMatch' && t.conditions?.length && !optOut(t)) : [];
    if (matches.length === 0) {
      return this.options.piiWidgets?.has(widget.name) ? `${this.pick(FIRST)} ${this.pick(LAST)}` : `${this.pick(WORDS)}, ${this.pick(WORDS)}`;
    }
    // Mostly the first branch (e.g. consent "yes"), sometimes another.
    const t = this.options.random() < 0.85 ? (matches[0] as (typeof matches)[number]) : this.pick(matches);
    const pool = [...(t.conditions ?? []).flatMap((c) => c.value.split(',').map((v) => v.trim())), ...this.candidates()].filter((v) => v !== '');
    const fits = pool.filter((v) => (t.conditions ?? []).every((c) => conditionHolds(c.type, v, c.value, split?.name ?? '')));
    if (fits.length === 0) return this.pick(WORDS);
    // Personal data looks like it: a name where any text would do, digits where the flow insists.
    const pii = this.options.piiWidgets?.has(widget.name) ? fits.find((v) => /^\p{L}+ \p{L}+$/u.test(v) || /^\d{8}$/.test(v)) : undefined;
    return pii ?? this.pick(fits);
  }

  protected async answer(widget: Widget): Promise<string> {
    const { random, invalidRate = 0.1, timeoutRate = 0.02 } = this.options;
    if (random() < timeoutRate) return TIMEOUT;
    const answer = random() < invalidRate ? this.pick(['???', 'maybe', '']) || '??' : this.valid(widget);
    if (this.options.piiWidgets?.has(widget.name)) this.piiTyped.push(answer);
    return answer;
  }
}

