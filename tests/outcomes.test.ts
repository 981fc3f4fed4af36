// The outcome vocabulary (src/flow/outcomes.ts) and the shipped flow agree:
// what tools/flow-outcomes.ts writes is what the flow holds, every outcome the
// flow sets is declared, and final_status renders the declared mapping.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/dev/functions-server.js';
import { keyValues, readFlow } from '../src/flow/definition.js';
import { studioLiquid } from '../src/flow/liquid.js';
import { FINAL_STATUS, finalStatusLiquid, OUTCOME_NAMES, OUTCOME_VARIABLE, writeOutcomes } from '../src/flow/outcomes.js';

const flow = readFlow(join(PROJECT_ROOT, 'flows', 'whatsapp-survey.json'));

describe('the outcome vocabulary in the shipped flow', () => {
  it('is what tools/flow-outcomes.ts writes: running it changes nothing', () => {
    expect(writeOutcomes(structuredClone(flow))).toEqual([]);
  });

  it('sets only declared outcomes, and every declared outcome on some path', () => {
    const set = flow.states.flatMap((w) => (w.type === 'set-variables' ? keyValues(w.properties.variables).filter((v) => v.key === OUTCOME_VARIABLE).map((v) => v.value) : []));
    expect(set.filter((v) => !(OUTCOME_NAMES as string[]).includes(v))).toEqual([]);
    expect(new Set(set)).toEqual(new Set(OUTCOME_NAMES));
  });

  it('final_status renders the declared mapping, and failed for an outcome never set', async () => {
    const liquid = studioLiquid();
    for (const outcome of OUTCOME_NAMES) expect(await liquid.parseAndRender(finalStatusLiquid(), { flow: { variables: { outcome } } })).toBe(FINAL_STATUS[outcome]);
    expect(await liquid.parseAndRender(finalStatusLiquid(), { flow: { variables: {} } })).toBe('failed');
  });
});
