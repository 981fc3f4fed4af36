// Real Studio flows others published (tests/corpus/, provenance in sources.json):
// lint reports the bugs and leaks each has and no other errors, and simulate
// runs scripted respondents to a real end of the flow, offline.
// Why each expected finding is true (or known false): tests/corpus/SOURCES.md.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Trigger } from '../src/flow/runner.js';
import { CORPUS_DIR, corpusFlow, guardNetwork, lintCorpusFlow, runCorpusFlow, sources, startFunctionStandIn, type FunctionStandIn } from './corpus/harness.js';

/** Per flow: "widget | property | what the message names" for each true error, and errors judged false that lint still reports. */
const expected = JSON.parse(readFileSync(join(CORPUS_DIR, 'expected-lint.json'), 'utf8')) as Record<string, { errors: string[]; knownFalse: string[] }>;

describe('corpus provenance', () => {
  it('lists at least 15 vendored flows, each with repository, path, commit and a licence that allows it, and the licence text where the repository has one', () => {
    const { vendored, fetchOnly } = sources();
    expect(vendored.length).toBeGreaterThanOrEqual(15);
    for (const s of [...vendored, ...fetchOnly]) {
      expect(s.repository).toMatch(/^[\w.-]+\/[\w.-]+$/);
      expect(s.commit).toMatch(/^[0-9a-f]{40}$/);
      expect(s.path).not.toBe('');
    }
    for (const s of vendored) {
      expect(s.licence).toMatch(/^(MIT|Apache-2\.0|ISC)\b/);
      expect(existsSync(join(CORPUS_DIR, 'flows', s.file))).toBe(true);
      if (s.licenceText) expect(readFileSync(join(CORPUS_DIR, s.licenceText), 'utf8')).toMatch(/MIT License|Apache License/);
    }
    for (const s of fetchOnly) expect(existsSync(join(CORPUS_DIR, 'flows', s.file))).toBe(false);
  });
});

describe('lint on the corpus', () => {
  for (const s of sources().vendored) {
    it(`${s.file}: every true error is reported, and nothing else is an error`, () => {
      const want = expected[s.file];
      expect(want, `no expectations recorded for ${s.file} in expected-lint.json`).toBeDefined();
      const errors = lintCorpusFlow(s.file).filter((f) => f.severity === 'error');
      const matches = (line: string) => {
        const [widget, property, names] = line.split(' | ') as [string, string, string];
        return (f: (typeof errors)[number]) => f.widget === widget && f.property === property && f.message.includes(names);
      };
      for (const line of want?.errors ?? []) expect(errors.some(matches(line)), `missing error: ${line}`).toBe(true);
      const accounted = [...(want?.errors ?? []), ...(want?.knownFalse ?? [])];
      const unexpected = errors.filter((f) => !accounted.some((line) => matches(line)(f)));
      expect(unexpected.map((f) => `${f.widget} | ${f.property} | ${f.message}`)).toEqual([]);
    });
  }
});

describe('simulate on the corpus, offline', () => {
  let fns: FunctionStandIn;
  let net: ReturnType<typeof guardNetwork>;
  beforeAll(async () => {
    fns = await startFunctionStandIn();
    net = guardNetwork();
  });
  afterAll(async () => {
    net?.restore();
    await fns?.stop();
  });

  const sms = (body: string): Trigger => ({ kind: 'message', from: '+15005550001', body });
  const rest = (data: Record<string, unknown>): Trigger => ({ kind: 'rest', to: '+15005550001', data });
  const cases: Array<{ file: string; trigger: Trigger; replies: string[]; path: string[]; outcome: string; error?: RegExp; says?: RegExp }> = [
    // The flow's own bug: Goodbye's "sent" goes to a widget that does not exist.
    { file: 'vaccine-standby-intake.json', trigger: sms('Hi'), replies: ['yes', 'Amina Otieno', '34', '94110', 'no', 'no', 'no', 'no', 'no', '1', 'English'], path: ['Trigger', 'Welcome', 'OptIn', 'Name'], outcome: 'failed', error: /SaveToAirtable/ },
    { file: 'patient-appointment-reminders.json', trigger: rest({ event_type: 'OPTED-IN', patient_first_name: 'Amina' }), replies: [], path: ['Trigger', 'set_global_variables', 'get-datetime-parts', 'split_on_event_type', 'send_optedin'], outcome: 'ended', says: /Amina/ },
    // The stand-in Function answers {}, which no option of split_Outreach matches: the flow ends there, as Studio would.
    { file: 'outreach-pcp-followup.json', trigger: rest({ patient_first_name: 'Amina' }), replies: ['YES'], path: ['Trigger', 'Outreach', 'save_Outreach', 'split_Outreach'], outcome: 'ended' },
    // validate_stamp's answer has no action: check_action's noMatch goes to system_error.
    { file: 'global-connect-passport.json', trigger: sms('ABC123'), replies: [], path: ['Trigger', 'validate_stamp', 'check_action', 'system_error'], outcome: 'ended' },
    { file: 'requestbin.json', trigger: rest({ campaignid: '1' }), replies: ['hello'], path: ['Trigger', 'intro', 'callback', 'ack'], outcome: 'ended' },
  ];

  for (const c of cases) {
    it(`${c.file}: a scripted respondent runs to ${c.path.at(-1)}`, async () => {
      const { result, transcript } = await runCorpusFlow(corpusFlow(c.file), fns.url, c.trigger, c.replies);
      expect(result.steps.map((s) => s.widget).slice(0, c.path.length)).toEqual(c.path);
      if (c.outcome === 'failed') {
        expect(result.outcome).toBe('failed');
        expect(result.error).toMatch(c.error as RegExp);
      } else {
        expect(result.outcome).not.toBe('failed');
        expect(result.steps.at(-1)?.widget).toBe(c.path.at(-1));
      }
      if (c.says) expect(transcript.filter((l) => l.from === 'flow').map((l) => l.text).join('\n')).toMatch(c.says);
      expect(net.outside).toEqual([]);
    });
  }
});
