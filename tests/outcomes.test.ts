// The outcome vocabulary (src/flow/outcomes.ts) and the shipped flow agree:
// what tools/flow-outcomes.ts writes is what the flow holds, every outcome the
// flow sets is declared, and final_status renders the declared mapping.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/dev/functions-server.js';
import { keyValues, readFlow } from '../src/flow/definition.js';
import { studioLiquid } from '../src/flow/liquid.js';
import { isPublishWidget } from '../src/flow/lint.js';
import { lastAnsweredLiquid, questionOrder } from '../src/flow/order.js';
import { FINAL_STATUS, finalStatusLiquid, OUTCOME_NAMES, OUTCOME_VARIABLE, writeOutcomes } from '../src/flow/outcomes.js';

const flows = ['whatsapp-survey.json', 'voice-survey.json'].map((file) => ({ file, flow: readFlow(join(PROJECT_ROOT, 'flows', file)) }));
const outcomesSet = (flow: (typeof flows)[number]['flow']) =>
  flow.states.flatMap((w) => (w.type === 'set-variables' ? keyValues(w.properties.variables).filter((v) => v.key === OUTCOME_VARIABLE).map((v) => v.value) : []));

describe('the outcome vocabulary in the shipped flows', () => {
  for (const { file, flow } of flows) {
    it(`${file} is what tools/flow-outcomes.ts writes: running it changes nothing`, () => {
      expect(writeOutcomes(structuredClone(flow))).toEqual([]);
    });

    it(`${file} sets only declared outcomes`, () => {
      expect(outcomesSet(flow).filter((v) => !(OUTCOME_NAMES as string[]).includes(v))).toEqual([]);
    });
  }

  it('every declared outcome is set on some path of a shipped flow (hung_up only on a call; optout only in WhatsApp)', () => {
    expect(new Set(flows.flatMap(({ flow }) => outcomesSet(flow)))).toEqual(new Set(OUTCOME_NAMES));
    expect(outcomesSet(flows[1]?.flow as (typeof flows)[number]['flow'])).toContain('hung_up');
  });

  it('final_status renders the declared mapping, and failed for an outcome never set', async () => {
    const liquid = studioLiquid();
    for (const outcome of OUTCOME_NAMES) expect(await liquid.parseAndRender(finalStatusLiquid(), { flow: { variables: { outcome } } })).toBe(FINAL_STATUS[outcome]);
    expect(await liquid.parseAndRender(finalStatusLiquid(), { flow: { variables: {} } })).toBe('failed');
  });

  it('every publish widget of both shipped flows carries last_answered, as the tool writes it', () => {
    for (const { flow } of flows) {
      const publishes = flow.states.filter(isPublishWidget);
      expect(publishes.map((w) => w.name)).toEqual(['publish', 'publish_outcome']);
      for (const w of publishes) expect(keyValues(w.properties.parameters).find((p) => p.key === 'last_answered')?.value).toBe(lastAnsweredLiquid(flow, w.name));
    }
  });
});

describe('last_answered', () => {
  const [whatsapp, voice] = flows.map((f) => f.flow) as [(typeof flows)[number]['flow'], (typeof flows)[number]['flow']];
  const liquid = studioLiquid();
  const render = (flow: typeof whatsapp, widgets: Record<string, unknown>) => liquid.parseAndRender(lastAnsweredLiquid(flow, 'publish_outcome'), { widgets });

  it('orders the questions as respondents meet them: a retry after its question, before the next question', () => {
    expect(questionOrder(whatsapp)).toEqual([
      'invite', 'invite_reminder', 'q_consent', 'q_consent_reminder', 'q_consent_retry', 'q_full_name', 'q_full_name_reminder', 'q_full_name_retry',
      'q_national_id', 'q_national_id_reminder', 'q_national_id_retry', 'q_age', 'q_age_reminder', 'q_age_retry',
      'q_district', 'q_district_reminder', 'q_district_retry', 'q_visited', 'q_visited_reminder', 'q_visited_retry', 'q_comment', 'q_comment_reminder',
    ]);
    expect(questionOrder(voice)).toEqual(['q_consent', 'ask_id', 'ask_answer']);
  });

  it('names the furthest question answered (a retry answered, then the next question: the next question), empty when none', async () => {
    const reply = { inbound: { Body: 'x' } };
    expect(await render(whatsapp, {})).toBe('');
    expect(await render(whatsapp, { q_consent: reply, q_age: reply, q_age_retry: reply })).toBe('q_age_retry');
    expect(await render(whatsapp, { q_consent: reply, q_age: reply, q_age_retry: reply, q_district: reply })).toBe('q_district');
    // A reply of nothing (a picture without text) is still a reply.
    expect(await render(whatsapp, { q_consent: { inbound: { Body: '' } } })).toBe('q_consent');
    expect(await render(voice, { q_consent: { Digits: '1' } })).toBe('q_consent');
    expect(await render(voice, { q_consent: { SpeechResult: 'yes' }, ask_id: { status: 'answered' } })).toBe('ask_id');
    expect(await render(voice, { q_consent: { Digits: '1' }, ask_id: { status: 'answered' }, ask_answer: { status: 'timeout' } })).toBe('ask_id');
  });
});
