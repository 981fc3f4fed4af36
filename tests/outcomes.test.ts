// The outcome vocabulary (src/flow/outcomes.ts) and the shipped flow agree:
// what tools/flow-outcomes.ts writes is what the flow holds, every outcome the
// flow sets is declared, and final_status renders the declared mapping.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/dev/functions-server.js';
import { keyValues, readFlow } from '../src/flow/definition.js';
import { studioLiquid } from '../src/flow/liquid.js';
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
});
