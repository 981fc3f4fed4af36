// Writes the outcome vocabulary and the stop words declared in
// src/flow/outcomes.ts into a flow: every publish widget's `outcome` and
// `final_status` parameters, its `last_answered` (the last question answered,
// src/flow/order.ts) and every `stop_*` split's stop words.
// tests/outcomes.test.ts fails when the shipped flow differs from what this writes.
// Run: npx tsx tools/flow-outcomes.ts [flows/whatsapp-survey.json]
import { readFileSync, writeFileSync } from 'node:fs';
import type { FlowDefinition } from '../src/flow/definition.js';
import { writeOutcomes } from '../src/flow/outcomes.js';

const file = process.argv[2] ?? 'flows/whatsapp-survey.json';
const flow = JSON.parse(readFileSync(file, 'utf8')) as FlowDefinition;
const changed = writeOutcomes(flow);
if (changed.length > 0) writeFileSync(file, `${JSON.stringify(flow, null, 2)}\n`);
process.stdout.write(changed.length > 0 ? `${file}: wrote ${changed.join(', ')}\n` : `${file}: up to date\n`);
