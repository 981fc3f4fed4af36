// The survey's columns derived from the flow (src/flow/columns.ts), the
// publishable declaration beside it (src/flow/publishable.ts), `sealed-survey
// flow columns` as a user runs it, and the local stack laying its sheet out
// from them. Variants of the shipped flow are written to a temp dir, with or
// without a declaration, and read back from there.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/dev/functions-server.js';
import { startLocalStack } from '../src/dev/stack.js';
import { flowColumns, surveyColumns, type ColumnProblem, type SurveyColumns } from '../src/flow/columns.js';
import { readFlow, type FlowDefinition, type Widget } from '../src/flow/definition.js';
import { isPublishWidget } from '../src/flow/lint.js';
import { declarationPath, REASON_PLACEHOLDER } from '../src/flow/publishable.js';
import { readScript, ScriptedChat, triggerOf } from '../src/flow/respondents.js';
import { simulate } from '../src/flow/simulate.js';
import { runCli } from './helpers/cli.js';

const FLOW = join(PROJECT_ROOT, 'flows', 'whatsapp-survey.json');
const DECLARATION = join(PROJECT_ROOT, 'flows', 'columns', 'whatsapp-survey.json');
const SHIPPED_DECLARATION = JSON.parse(readFileSync(DECLARATION, 'utf8')) as { publishable: Record<string, string> };
const tmp = mkdtempSync(join(tmpdir(), 'sealed-survey-columns-'));
mkdirSync(join(tmp, 'columns'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const base = readFlow(FLOW);
const publishOf = (flow: FlowDefinition) => flow.states.find((w) => w.name === 'publish') as Widget;
const encryptOf = (flow: FlowDefinition) => flow.states.find((w) => w.name === 'encrypt') as Widget;
const params = (w: Widget) => w.properties.parameters as Array<{ key: string; value: string }>;
const param = (w: Widget, key: string) => params(w).find((p) => p.key === key) as { key: string; value: string };

let written = 0;
/**
 * Writes a variant of the shipped flow (changed by `change`) and, unless `declaration` is null, a declaration
 * beside it (the shipped one by default); returns the flow file.
 */
function variant(change: (flow: FlowDefinition) => void, declaration: unknown = SHIPPED_DECLARATION): string {
  const flow = structuredClone(base);
  change(flow);
  const file = join(tmp, `survey-${++written}.json`);
  writeFileSync(file, JSON.stringify(flow, null, 2));
  if (declaration !== null) writeFileSync(declarationPath(file), typeof declaration === 'string' ? declaration : JSON.stringify(declaration));
  return file;
}
const columnsOf = (file: string): SurveyColumns => surveyColumns(readFlow(file), file);
const ids = (problems: readonly ColumnProblem[]) => problems.map((p) => `${p.severity} ${p.id} ${p.widget} → ${p.property}`);
const classOf = (c: SurveyColumns, name: string) => c.columns.find((x) => x.name === name)?.class;

describe('the shipped flow', () => {
  const columns = surveyColumns(base, FLOW);

  it('derives the header, each column class with its source widget, and PII_COLUMNS, with nothing to fix', () => {
    expect(columns.header).toEqual(['received_at', 'execution_sid', 'respondent_id', 'respondent', 'full_name', 'national_id', 'age', 'district', 'visited_clinic', 'comment', 'outcome', 'final_status', 'last_answered']);
    expect(columns.columns.map((c) => [c.name, c.class, c.source])).toEqual([
      ['received_at', 'system', 'publish'],
      ['execution_sid', 'system', 'publish'],
      ['respondent_id', 'system', 'encrypt'],
      ['respondent', 'sealed', 'encrypt'],
      ['full_name', 'sealed', 'encrypt'],
      ['national_id', 'sealed', 'encrypt'],
      ['age', 'plain', 'publish'],
      ['district', 'plain', 'publish'],
      ['visited_clinic', 'plain', 'publish'],
      ['comment', 'plain', 'publish'],
      ['outcome', 'system', 'publish'],
      ['final_status', 'system', 'publish'],
      ['last_answered', 'system', 'publish'],
    ]);
    expect(columns.piiColumns).toEqual(['respondent', 'full_name', 'national_id']);
    expect(columns.problems).toEqual([]);
    expect(columns.declaration).toBe(join(PROJECT_ROOT, 'flows', 'columns', 'whatsapp-survey.json'));
  });

  it('declares exactly its plain columns, each with a reason; the free-text comment says it can hold personal details', () => {
    expect(Object.keys(SHIPPED_DECLARATION.publishable).sort()).toEqual(['age', 'comment', 'district', 'visited_clinic']);
    for (const c of columns.columns.filter((x) => x.class === 'plain')) expect(c.reason).toBe(SHIPPED_DECLARATION.publishable[c.name]);
    expect(SHIPPED_DECLARATION.publishable.comment).toMatch(/free text/i);
    expect(SHIPPED_DECLARATION.publishable.comment).toMatch(/names, phone numbers or health details/);
  });
});

describe('classification', () => {
  it('a token with spaces inside the braces is sealed; with a filter, text or spaces around it, or encrypt\'s raw output, it is an error', () => {
    const file = variant((flow) => {
      const p = publishOf(flow);
      param(p, 'full_name').value = '{{ widgets.encrypt.parsed.full_name }}';
      param(p, 'national_id').value = '{{widgets.encrypt.parsed.national_id | upcase}}';
      param(p, 'respondent').value = 'Phone: {{widgets.encrypt.parsed.respondent}}';
      params(p).push({ key: 'raw', value: '{{widgets.encrypt.body}}' }, { key: 'padded', value: '{{widgets.encrypt.parsed.full_name}} ' });
    });
    const c = columnsOf(file);
    expect(ids(c.problems)).toEqual([
      'error altered-token publish → parameters.respondent',
      'error altered-token publish → parameters.national_id',
      'error altered-token publish → parameters.raw',
      'error altered-token publish → parameters.padded',
    ]);
    expect(c.problems[1]?.message).toContain('make the value exactly {{widgets.encrypt.parsed.national_id}}');
    // Still sealed columns: publish's guard refuses what is not a clean token in them.
    expect(c.piiColumns).toEqual(['respondent', 'full_name', 'national_id', 'raw', 'padded']);
  });

  it('a token under another column name, or of a field encrypt is not given, is an error naming the fix', () => {
    const file = variant((flow) => {
      params(publishOf(flow)).push({ key: 'name', value: '{{widgets.encrypt.parsed.full_name}}' }, { key: 'email', value: '{{widgets.encrypt.parsed.email}}' });
    });
    const c = columnsOf(file);
    expect(ids(c.problems)).toEqual(['error field-mismatch publish → parameters.name', 'error unknown-field publish → parameters.email']);
    expect(c.problems[0]?.message).toContain('name the column full_name');
    expect(c.problems[1]?.message).toContain('encrypt is given no "email" parameter');
    expect(classOf(c, 'name')).toBe('sealed');
  });

  it('system columns must carry what they say: execution_sid = {{flow.sid}}, respondent_id = the pseudonym from a respondent given to encrypt', () => {
    const wrong = columnsOf(
      variant((flow) => {
        param(publishOf(flow), 'execution_sid').value = '{{flow.sid | downcase}}';
        param(publishOf(flow), 'respondent_id').value = '{{contact.channel.address}}';
      }),
    );
    // An address under a system name is a plain column, and an undeclared one.
    expect(ids(wrong.problems)).toEqual([
      'error execution-sid publish → parameters.execution_sid',
      'error respondent-id publish → parameters.respondent_id',
      'error undeclared-column publish → parameters.respondent_id',
    ]);
    expect(classOf(wrong, 'respondent_id')).toBe('plain');

    const noRespondent = columnsOf(
      variant((flow) => {
        const enc = encryptOf(flow);
        enc.properties.parameters = params(enc).filter((p) => p.key !== 'respondent');
        const pub = publishOf(flow);
        pub.properties.parameters = params(pub).filter((p) => p.key !== 'respondent');
      }),
    );
    expect(ids(noRespondent.problems)).toEqual(['error unknown-field publish → parameters.respondent_id']);
    expect(noRespondent.problems[0]?.message).toContain('add respondent = {{contact.channel.address}} to encrypt');

    const noExecution = columnsOf(variant((flow) => (publishOf(flow).properties.parameters = params(publishOf(flow)).filter((p) => p.key !== 'execution_sid'))));
    expect(ids(noExecution.problems)).toEqual(['error missing-execution-sid publish → parameters']);
  });

  it('received_at and ended_at are reserved; outcome columns hold only declared values; duplicate, misspelt-case and non-identifier names are errors; the header keeps the first', () => {
    const file = variant((flow) => {
      param(publishOf(flow), 'outcome').value = 'done';
      param(publishOf(flow), 'final_status').value = '{% if widgets.q_comment.inbound.Body %}complete{% endif %}';
      params(publishOf(flow)).push(
        { key: 'received_at', value: 'x' },
        { key: 'Ended_At', value: '{{flow.variables.x}}' },
        { key: 'age', value: '{{flow.variables.age}}' },
        { key: 'AGE', value: '{{flow.variables.age}}' },
        { key: 'Full Name', value: 'x' },
        { key: '2nd visit', value: 'x' },
      );
    });
    const c = columnsOf(file);
    expect(ids(c.problems)).toEqual([
      'error outcome-value publish → parameters.outcome',
      'error outcome-value publish → parameters.final_status',
      'error reserved-column publish → parameters.received_at',
      'error reserved-column publish → parameters.Ended_At',
      'error duplicate-column publish → parameters.age',
      'error duplicate-column publish → parameters.AGE',
      // Publish writes "Full Name" into full_name's column, as it matches headers.
      'error duplicate-column publish → parameters.Full Name',
      'error bad-column-name publish → parameters.2nd visit',
      'error undeclared-column publish → parameters.2nd visit',
    ]);
    expect(c.problems[0]?.message).toContain('"done" is not a declared outcome (complete, declined, optout, incomplete, no_reply, hung_up, undeliverable, failed)');
    expect(c.problems[1]?.message).toContain('reads widgets.q_comment.inbound.Body, but final_status may only be derived from flow.variables.outcome');
    expect(c.header).toEqual(['received_at', 'execution_sid', 'respondent_id', 'respondent', 'full_name', 'national_id', 'age', 'district', 'visited_clinic', 'comment', 'outcome', 'final_status', 'last_answered', '2nd visit']);
  });

  it('a flow without publish has no columns and says so; without encrypt every column but execution_sid is plain', () => {
    const noPublish = columnsOf(variant((flow) => (flow.states = flow.states.filter((w) => !isPublishWidget(w))), null));
    expect(noPublish.header).toEqual([]);
    expect(noPublish.columns).toEqual([]);
    expect(ids(noPublish.problems)).toEqual(['warning no-publish (flow) → states']);
    expect(noPublish.problems[0]?.message).toContain('has no publish widget');

    const noEncrypt = columnsOf(
      variant((flow) => {
        const enc = encryptOf(flow);
        enc.name = 'seal';
        enc.properties.url = 'https://example.com/seal';
        for (const w of flow.states) for (const t of w.transitions) if (t.next === 'encrypt') t.next = 'seal';
        publishOf(flow).properties.parameters = [
          { key: 'execution_sid', value: '{{flow.sid}}' },
          { key: 'age', value: '{{flow.variables.age}}' },
        ];
      }),
    );
    // publish_outcome still adds the outcome columns, system with or without encrypt.
    expect(noEncrypt.columns.map((c) => [c.name, c.class])).toEqual([['received_at', 'system'], ['execution_sid', 'system'], ['age', 'plain'], ['outcome', 'system'], ['final_status', 'system'], ['last_answered', 'system']]);
    expect(noEncrypt.piiColumns).toEqual([]);
    expect(ids(noEncrypt.problems)).toEqual(['warning no-encrypt (flow) → states', 'warning stale-declaration (flow) → publishable.district', 'warning stale-declaration (flow) → publishable.visited_clinic', 'warning stale-declaration (flow) → publishable.comment']);
  });

  it('a second publish widget adds its columns; the same column sealed in one and plain in the other is an error', () => {
    const file = variant((flow) => {
      const second = structuredClone(publishOf(flow));
      second.name = 'publish_partial';
      second.properties.parameters = [
        { key: 'execution_sid', value: '{{flow.sid}}' },
        { key: 'age', value: '{{flow.variables.age}}' },
        { key: 'full_name', value: '{{flow.variables.full_name}}' },
        { key: 'district', value: '{{flow.variables.district}}' },
      ];
      flow.states.push(second);
    });
    const c = columnsOf(file);
    expect(c.header).toEqual(['received_at', 'execution_sid', 'respondent_id', 'respondent', 'full_name', 'national_id', 'age', 'district', 'visited_clinic', 'comment', 'outcome', 'final_status', 'last_answered']);
    expect(ids(c.problems)).toEqual(['error duplicate-column publish_partial → parameters.full_name']);
    expect(c.problems[0]?.message).toContain('"full_name" is plain here but sealed in publish');
  });
});

describe('the publishable declaration', () => {
  it('missing while the flow publishes plain columns: one error naming the file to create and every column', () => {
    const file = variant(() => {}, null);
    const c = columnsOf(file);
    expect(ids(c.problems)).toEqual(['error no-declaration publish → parameters']);
    const message = c.problems[0]?.message ?? '';
    expect(message).toContain(`no ${join(tmp, 'columns', `survey-${written}.json`)} declares them publishable: create it as {"publishable":{"age":"${REASON_PLACEHOLDER}"`);
    expect(message).toContain('publishes age, district, visited_clinic, comment in plaintext');
    expect(c.columns.filter((x) => x.class === 'plain').map((x) => x.reason)).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('missing is fine when nothing is published in plaintext', () => {
    const file = variant((flow) => (publishOf(flow).properties.parameters = params(publishOf(flow)).slice(0, 5)), null);
    expect(columnsOf(file).problems).toEqual([]);
  });

  it('an undeclared plain column is an error naming the column, the file and the fix; a stale or sealed entry is a warning', () => {
    const file = variant((flow) => params(publishOf(flow)).push({ key: 'language', value: 'sw' }), {
      publishable: { ...SHIPPED_DECLARATION.publishable, full_name: 'we trust it', gender: 'removed from the survey' },
    });
    const c = columnsOf(file);
    expect(ids(c.problems)).toEqual(['error undeclared-column publish → parameters.language', 'warning stale-declaration (flow) → publishable.full_name', 'warning stale-declaration (flow) → publishable.gender']);
    const [undeclared, sealed, gone] = c.problems;
    expect(undeclared?.message).toBe(
      `"language" is published in plaintext but not declared publishable: if it can never hold personal data, add "language": "${REASON_PLACEHOLDER}" to "publishable" in ${declarationPath(file)}; if it can, give it to the encrypt widget and publish {{widgets.<encrypt>.parsed.language}}`,
    );
    expect(sealed?.message).toContain('"full_name" is declared publishable in');
    expect(sealed?.message).toContain('but is sealed, not published in plaintext');
    expect(gone?.message).toContain('but is no longer published by the flow');
    expect(c.columns.find((x) => x.name === 'language')?.reason).toBeUndefined();
  });

  it('matches declared names to columns as publish matches headers (case and spacing)', () => {
    const file = variant(() => {}, { publishable: { Age: 'a number', District: 'fixed values', 'Visited Clinic': 'yes or no', COMMENT: 'free text: can hold personal details' } });
    const c = columnsOf(file);
    expect(c.problems).toEqual([]);
    expect(c.columns.find((x) => x.name === 'visited_clinic')?.reason).toBe('yes or no');
  });

  it.each([
    ['not JSON', '{"publishable": {', /survey-\d+\.json is not JSON \(.*\): write it as \{"publishable":/],
    ['a misspelt key', { publishible: { age: 'a number' } }, /: \(top level\): .*publishible.*; the file holds only "publishable" \(and an optional "\$comment"\)/],
    ['no publishable', { $comment: 'x' }, /: publishable: /],
    ['an empty reason', { publishable: { age: '  ' } }, /: publishable\.age: the reason is empty: say why/],
    ['the placeholder left in', { publishable: { age: REASON_PLACEHOLDER } }, /: publishable\.age: the reason is still a placeholder: replace it/],
    ['a reason that is not text', { publishable: { age: true } }, /: publishable\.age: /],
  ])('invalid (%s): an error naming the file and the place, and no column counts as declared', (_, declaration, message) => {
    const file = variant(() => {}, declaration);
    const c = columnsOf(file);
    expect(c.problems.length).toBeGreaterThan(0);
    for (const p of c.problems) {
      expect(p.id).toBe('bad-declaration');
      expect(p.message.startsWith(declarationPath(file))).toBe(true);
    }
    expect(c.problems.map((p) => p.message).join('\n')).toMatch(message);
    expect(c.columns.every((x) => x.reason === undefined)).toBe(true);
  });
});

const flowCli = (args: readonly string[]) => runCli('sealed-survey', ['flow', ...args], { env: { NO_COLOR: '1' } });

describe('sealed-survey flow columns (CLI)', () => {
  it('prints the table, the PII_COLUMNS line and a summary, and exits 0 for the shipped flow', async () => {
    const res = await flowCli(['columns', 'flows/whatsapp-survey.json']);
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout.split('\n');
    expect(lines[0]).toMatch(/^COLUMN +CLASS +SOURCE +PUBLISHABLE BECAUSE$/);
    expect(lines).toContain('received_at     system  publish');
    expect(lines).toContain('full_name       sealed  encrypt');
    expect(lines).toContain(`district        plain   publish  ${SHIPPED_DECLARATION.publishable.district}`);
    expect(lines).toContain('PII_COLUMNS=respondent,full_name,national_id');
    expect(res.stderr).toBe('sealed-survey: 0 errors, 0 warnings in flows/whatsapp-survey.json\n');
  });

  it('--json gives the header, PII_COLUMNS, columns with their reasons and the problems', async () => {
    const res = await flowCli(['columns', '--json', 'flows/whatsapp-survey.json']);
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as { declaration: string; header: string[]; piiColumns: string[]; columns: Array<Record<string, unknown>>; problems: unknown[] };
    expect(out.declaration).toBe(join('flows', 'columns', 'whatsapp-survey.json'));
    expect(out.header).toEqual(flowColumns(base).header);
    expect(out.piiColumns).toEqual(['respondent', 'full_name', 'national_id']);
    expect(out.columns[3]).toEqual({ name: 'respondent', class: 'sealed', source: 'encrypt' });
    expect(out.columns[9]).toEqual({ name: 'comment', class: 'plain', source: 'publish', reason: SHIPPED_DECLARATION.publishable.comment });
    expect(out.problems).toEqual([]);
    expect(res.stderr).toBe('');
  });

  it('exits 1 with NOT DECLARED in the table and the problem on stderr when a plain column is undeclared; --json lists it', async () => {
    const file = variant((flow) => params(publishOf(flow)).push({ key: 'language', value: 'sw' }));
    const [table, json] = await Promise.all([flowCli(['columns', file]), flowCli(['columns', '--json', file])]);
    expect(table.code).toBe(1);
    expect(table.stdout.split('\n')).toContain('language        plain   publish  NOT DECLARED');
    expect(table.stderr).toContain(`${file}: publish → parameters.language: "language" is published in plaintext but not declared publishable`);
    expect(table.stderr).toContain(`sealed-survey: 1 error, 0 warnings in ${file}: fix the errors above, then run again`);
    expect(json.code).toBe(1);
    const out = JSON.parse(json.stdout) as { columns: Array<{ name: string; reason?: string | null }>; problems: Array<{ id: string; column?: string }> };
    expect(out.columns.find((c) => c.name === 'language')?.reason).toBeNull();
    expect(out.problems.map((p) => [p.id, p.column])).toEqual([['undeclared-column', 'language']]);
  });

  it('exits 1 on an invalid declaration; exits 0 with a warning and no table for a flow without publish', async () => {
    const [invalid, noPublish] = await Promise.all([
      flowCli(['columns', variant(() => {}, { publishable: { age: '' } })]),
      flowCli(['columns', variant((flow) => (flow.states = flow.states.filter((w) => !isPublishWidget(w))), null)]),
    ]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/→ publishable: .*columns\/survey-\d+\.json: publishable\.age: the reason is empty/);
    expect(invalid.stdout).toContain('age             plain   publish  NOT DECLARED');
    expect(noPublish.code).toBe(0);
    expect(noPublish.stdout).toBe('');
    expect(noPublish.stderr).toContain('(flow) → states: warning: the flow has no publish widget');
  });

  it('exits 2 for a missing file, a file that is not a flow, or no file; --help has examples and exit codes', async () => {
    const notFlow = join(tmp, 'not-a-flow.json');
    writeFileSync(notFlow, '{"publishable": {}}');
    const [missing, other, none, group, help] = await Promise.all([
      flowCli(['columns', 'flows/no-such-flow.json']),
      flowCli(['columns', notFlow]),
      flowCli(['columns']),
      flowCli([]),
      flowCli(['columns', '--help']),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read flows/no-such-flow.json: give the path of a flow exported from Studio');
    expect(other.code).toBe(2);
    expect(other.stderr).toContain(`${notFlow} is not a Studio flow definition`);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("missing required argument 'flow.json'");
    expect(group.code).toBe(2);
    expect(group.stderr).toContain('columns [options] <flow.json>');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('$ sealed-survey flow columns --json flows/whatsapp-survey.json');
    expect(help.stdout).toContain('Exit status: 0 no errors (warnings allowed), 1 a plain column is not declared');
  });
});

describe('the local stack', () => {
  it("lays its sheet out from the flow's columns and sets PII_COLUMNS to the sealed columns publish receives", async () => {
    // encrypt seals national_id but publish does not publish it: a PII_COLUMNS entry for it would make publish refuse every row.
    const file = variant((flow) => (publishOf(flow).properties.parameters = params(publishOf(flow)).filter((p) => p.key !== 'national_id')));
    const flow = readFlow(file);
    const stack = await startLocalStack({ flow, keysDir: join(tmp, 'keys') });
    try {
      expect(stack.env.PII_COLUMNS).toBe('respondent,full_name');
      expect(stack.sheets.rows(stack.spreadsheetId, stack.tab)).toEqual([flowColumns(flow).header]);
      const jobs = readScript(join(PROJECT_ROOT, 'flows', 'answers', 'demo.json')).map((r) => ({ trigger: triggerOf(r), chat: new ScriptedChat(r.replies) }));
      const { summary } = await simulate(jobs, { flow, functionsUrl: stack.functions.url, authToken: stack.authToken, concurrency: 2 });
      expect([...summary.errors.keys()]).toEqual([]);
      // Every execution publishes its one row, the one who declined too.
      expect(summary.stored).toBe(5);
      const rows = stack.sheets.rows(stack.spreadsheetId, stack.tab);
      expect(rows.slice(1).filter((r) => r.some((cell) => cell !== ''))).toHaveLength(5);
    } finally {
      await stack.stop();
    }
  });

  it('the shipped flow: a respondent silent at the third question leaves a row saying the second was the last answered, and no answer', async () => {
    const stack = await startLocalStack({ flow: base, keysDir: join(tmp, 'keys-stopped') });
    try {
      const scripts = [
        // Consents and gives a name, then says nothing at q_national_id and its reminder.
        { from: 'whatsapp:+254700000031', replies: ['yes', 'Amina Example Wanjiru'] },
        { from: 'whatsapp:+254700000032', replies: ['No thanks'] },
        { from: 'whatsapp:+254700000033', replies: [] },
      ];
      const jobs = scripts.map((r) => ({ trigger: triggerOf({ ...r, trigger: 'message' as const, message: 'Hi', data: {}, parameters: {} }), chat: new ScriptedChat(r.replies) }));
      const { summary, results } = await simulate(jobs, { flow: base, functionsUrl: stack.functions.url, authToken: stack.authToken, concurrency: 1 });
      expect([...summary.errors.keys()]).toEqual([]);
      expect(results.map((r) => r.variables.outcome)).toEqual(['incomplete', 'declined', 'no_reply']);
      const [header, ...rows] = stack.sheets.rows(stack.spreadsheetId, stack.tab) as string[][];
      const col = (name: string) => (header as string[]).indexOf(name);
      const rowOf = (i: number) => rows.find((r) => r[col('execution_sid')] === results[i]?.executionSid) as string[];
      expect([0, 1, 2].map((i) => rowOf(i)[col('last_answered')] ?? '')).toEqual(['q_full_name', 'q_consent', '']);
      expect(rowOf(0).join('\n')).not.toContain('Amina');
    } finally {
      await stack.stop();
    }
  });
});
