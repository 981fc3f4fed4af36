// `sealed-survey lint`: PII leaks and structural mistakes in Studio flow
// definitions, on a small fixture flow and (when it exists) the real survey
// flow, each mutated in memory into leaky and broken variants.
import { runCli } from './helpers/cli.js';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readFlow, type FlowDefinition, type Widget } from '../src/flow/definition.js';
import { isEncryptWidget, lintFlow, liquidReferences, type Finding } from '../src/flow/lint.js';
import { declarationPath } from '../src/flow/publishable.js';
import { surveyColumns } from '../src/flow/columns.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MINIMAL = join(ROOT, 'tests/flows/minimal-survey.json');
const REAL = join(ROOT, 'flows/whatsapp-survey.json');
const tmp = mkdtempSync(join(tmpdir(), 'sealed-survey-lint-'));

let written = 0;
/**
 * Writes a variant to the temp dir and lints it from there, as the CLI would, with the columns `base`'s publishable
 * declaration declares but without the publish column problems (the variants add columns no declaration lists; those
 * checks are tested at the end of this file and in tests/flow-columns.test.ts).
 */
function lintVariant(flow: FlowDefinition, base = MINIMAL): { file: string; findings: Finding[] } {
  const file = join(tmp, `variant-${++written}.json`);
  writeFileSync(file, JSON.stringify(flow, null, 2));
  const columns = { ...surveyColumns(flow, base), problems: [] };
  return { file, findings: lintFlow(readFlow(file), file, { columns }) };
}

const errors = (findings: readonly Finding[]) => findings.filter((f) => f.severity === 'error');
const warnings = (findings: readonly Finding[]) => findings.filter((f) => f.severity === 'warning');
const where = (findings: readonly Finding[]) => findings.map((f) => `${f.widget} → ${f.property}`);

function widget(flow: FlowDefinition, name: string): Widget {
  const w = flow.states.find((s) => s.name === name);
  if (!w) throw new Error(`no widget ${name}`);
  return w;
}

function encryptOf(flow: FlowDefinition): Widget {
  const w = flow.states.find(isEncryptWidget);
  if (!w) throw new Error('the flow has no encrypt widget');
  return w;
}

/** The Run Function that writes the sheet: URL ending in /publish, else the first Run Function that is not encrypt. */
function publishOf(flow: FlowDefinition): Widget {
  const functions = flow.states.filter((w) => w.type === 'run-function' && !isEncryptWidget(w));
  const w = functions.find((f) => f.name === 'publish' || /\/publish\/?$/.test(String(f.properties.url ?? ''))) ?? functions[0];
  if (!w) throw new Error('the flow has no publish widget');
  return w;
}

function parametersOf(w: Widget): Array<{ key: string; value: string }> {
  if (!Array.isArray(w.properties.parameters)) w.properties.parameters = [];
  return w.properties.parameters as Array<{ key: string; value: string }>;
}

/**
 * An answer the flow seals, and the field it is sealed as: the first widgets.<q>.inbound.* path among encrypt's
 * parameters, or among the Set Variables values of a flow variable given to encrypt.
 */
function sealedAnswer(flow: FlowDefinition): { path: string; question: string; sealed: string } {
  const enc = encryptOf(flow);
  const pathsOf = (text: string) => {
    const refs = liquidReferences(text);
    return 'paths' in refs ? refs.paths : [];
  };
  const assignedTo = (key: string) =>
    flow.states.filter((w) => w.type === 'set-variables').flatMap((w) => (w.properties.variables as Array<{ key: string; value: string }>).filter((v) => v.key === key).flatMap((v) => pathsOf(v.value)));
  for (const p of parametersOf(enc)) {
    for (const ref of pathsOf(p.value)) {
      const candidates = ref[0] === 'flow' && ref[1] === 'variables' && ref[2] ? assignedTo(ref[2]) : [ref];
      const path = candidates.find((r) => r[0] === 'widgets' && r[2] === 'inbound');
      if (path) return { path: path.join('.'), question: path[1] as string, sealed: `widgets.${enc.name}.parsed.${p.key}` };
    }
  }
  throw new Error('encrypt is given no answer');
}

const outgoing: Record<string, string[]> = {
  'make-http-request': ['success', 'failed'],
  'run-subflow': ['completed', 'failed'],
  'set-variables': ['next'],
  'send-message': ['sent', 'failed'],
  'split-based-on': ['noMatch'],
};

/** Puts new widgets, in order, between encrypt and what follows its success. */
function afterEncrypt(flow: FlowDefinition, ...widgets: Array<{ name: string; type: string; properties: Record<string, unknown> }>): void {
  const success = encryptOf(flow).transitions.find((t) => t.event === 'success');
  if (!success) throw new Error('encrypt has no success transition');
  const after = success.next;
  success.next = widgets[0]?.name;
  widgets.forEach((w, i) => {
    const next = widgets[i + 1]?.name ?? after;
    const transitions = (outgoing[w.type] ?? []).map((event) => (next ? { event, next } : { event }));
    flow.states.push({ ...w, transitions, properties: { offset: { x: 900, y: 100 * i }, ...w.properties } });
  });
}

const HTTP = { method: 'POST', content_type: 'application/json;charset=utf-8', url: 'https://example.com/hook', body: '{}' };

const bases = [{ name: 'tests/flows/minimal-survey.json', file: MINIMAL }, ...(existsSync(REAL) ? [{ name: 'flows/whatsapp-survey.json', file: REAL }] : [])];

describe.each(bases)('PII leaks in variants of $name', ({ file }) => {
  const base = readFlow(file);
  const copy = () => structuredClone(base);
  const { path, question, sealed } = sealedAnswer(base);

  it('the base flow has no errors', () => {
    expect(errors(lintFlow(base, file))).toEqual([]);
  });

  /** Lints a variant and expects exactly one error, at widget → property, about PII from `origin` reaching `sink`. */
  function expectOneLeak(flow: FlowDefinition, at: string, origin: RegExp, sink: string): Finding {
    const found = errors(lintVariant(flow, file).findings);
    expect(where(found)).toEqual([at]);
    const [f] = found as [Finding];
    expect(f.message).toMatch(origin);
    expect(f.message).toContain(`reaches ${sink}`);
    return f;
  }
  const fromAnswer = new RegExp(`^PII from ${question} \\(${path.replaceAll('.', '\\.')}\\)`);

  it('an answer straight into publish: error naming publish, the parameter and the sealed field to use', () => {
    const flow = copy();
    const publish = publishOf(flow);
    parametersOf(publish).push({ key: 'leak', value: `{{${path}}}` });
    const f = expectOneLeak(flow, `${publish.name} → parameters.leak`, fromAnswer, 'the publish column "leak"');
    expect(f.message).toContain(`{{${sealed}}}`);
    expect(f.message).toContain(`or, only if publishing it in plaintext is acceptable, declare "leak" with the reason in ${declarationPath(file)}`);
  });

  it("what encrypt is given, passed to publish as it is: error naming the route through flow variables", () => {
    const flow = copy();
    const publish = publishOf(flow);
    // The first sealed parameter (execution_sid binds the tokens and is not personal data).
    const given = parametersOf(encryptOf(flow)).find((p) => p.key !== 'execution_sid') as { key: string; value: string };
    parametersOf(publish).push({ key: 'copy', value: given.value });
    const f = expectOneLeak(flow, `${publish.name} → parameters.copy`, /^PII from /, 'the publish column "copy"');
    const variable = /flow\.variables\.\w+/.exec(given.value)?.[0];
    if (variable) expect(f.message).toContain(`reaches the publish column "copy" via ${variable},`);
  });

  it('an answer through a filter or inside an {% if %} tag counts too', () => {
    const flow = copy();
    const publish = publishOf(flow);
    parametersOf(publish).push({ key: 'lower', value: `{{ ${path} | downcase | strip }}` }, { key: 'flag', value: `{% if ${path} contains "a" %}yes{% endif %}` });
    const found = errors(lintVariant(flow, file).findings);
    expect(where(found)).toEqual([`${publish.name} → parameters.lower`, `${publish.name} → parameters.flag`]);
  });

  it('an answer through two Set Variables hops into publish: error naming the route', () => {
    const flow = copy();
    afterEncrypt(
      flow,
      { name: 'set_hop_a', type: 'set-variables', properties: { variables: [{ key: 'hop_a', value: `{{${path}}}` }] } },
      { name: 'set_hop_b', type: 'set-variables', properties: { variables: [{ key: 'hop_b', value: 'Name: {{flow.variables.hop_a}}' }] } },
    );
    const publish = publishOf(flow);
    parametersOf(publish).push({ key: 'leak', value: '{{flow.variables.hop_b}}' });
    const f = expectOneLeak(flow, `${publish.name} → parameters.leak`, fromAnswer, 'the publish column "leak"');
    expect(f.message).toContain('via flow.variables.hop_a → flow.variables.hop_b');
  });

  it.each([
    ['url', { url: `https://example.com/hook?name={{${path} | url_encode}}` }, 'url', 'an HTTP request URL'],
    ['body', { body: `{"name": "{{${path}}}"}` }, 'body', 'an HTTP request body'],
    ['parameters', { parameters: [{ key: 'name', value: `{{${path}}}` }] }, 'parameters.name', 'an HTTP request parameter'],
  ])('an answer into an HTTP request %s: error', (_, props, property, sink) => {
    const flow = copy();
    afterEncrypt(flow, { name: 'http_leak', type: 'make-http-request', properties: { ...HTTP, ...props } });
    expectOneLeak(flow, `http_leak → ${property}`, fromAnswer, sink);
  });

  it('an answer into a subflow parameter: error', () => {
    const flow = copy();
    afterEncrypt(flow, { name: 'subflow_leak', type: 'run-subflow', properties: { flow_sid: 'FW00000000000000000000000000000000', flow_revision: 'LatestPublished', parameters: [{ key: 'name', value: `{{${path}}}` }] } });
    expectOneLeak(flow, 'subflow_leak → parameters.name', fromAnswer, 'a Subflow parameter');
  });

  it("the contact's address into an HTTP body: error", () => {
    const flow = copy();
    afterEncrypt(flow, { name: 'http_phone', type: 'make-http-request', properties: { ...HTTP, body: '{"phone": "{{contact.channel.address}}"}' } });
    expectOneLeak(flow, 'http_phone → body', /^PII from the respondent's address \(contact\.channel\.address\)/, 'an HTTP request body');
  });

  it('routing on the answer in a split, the sealed output into publish, and to: the contact are not leaks', () => {
    const flow = copy();
    afterEncrypt(
      flow,
      {
        name: 'route_on_answer',
        type: 'split-based-on',
        properties: { input: `{{${path}}}` },
      },
      { name: 'note_to_respondent', type: 'send-message', properties: { from: '{{flow.channel.address}}', to: '{{contact.channel.address}}', body: 'Almost done.' } },
    );
    const split = widget(flow, 'route_on_answer');
    const next = split.transitions[0]?.next;
    split.transitions.push({ event: 'match', ...(next ? { next } : {}), conditions: [{ friendly_name: 'If value equal_to yes', arguments: [`{{${path}}}`], type: 'equal_to', value: 'yes' }] });
    parametersOf(publishOf(flow)).push({ key: 'sealed_copy', value: `{{${sealed}}}` });
    const { findings } = lintVariant(flow, file);
    expect(errors(findings)).toEqual([]);
    expect(where(findings)).not.toContain('note_to_respondent → to');
    expect(where(findings)).not.toContain(`${publishOf(flow).name} → parameters.sealed_copy`);
  });

  it("quoting the answer back in a message is a warning (Twilio's message logs), not an error", () => {
    const flow = copy();
    afterEncrypt(flow, { name: 'echo', type: 'send-message', properties: { from: '{{flow.channel.address}}', to: '{{contact.channel.address}}', body: `Thanks, {{${path}}}!`, content_variables: [{ key: '1', value: `{{${path}}}` }] } });
    const { findings } = lintVariant(flow, file);
    expect(errors(findings)).toEqual([]);
    const echo = warnings(findings).filter((f) => f.widget === 'echo');
    expect(where(echo)).toEqual(['echo → body', 'echo → content_variables.1']);
    expect(echo[0]?.message).toMatch(/quoted back to the respondent.*message logs/);
  });
});

describe('structure checks on tests/flows/minimal-survey.json', () => {
  const base = readFlow(MINIMAL);
  const copy = () => structuredClone(base);

  it('the fixture is clean: no errors, no warnings', () => {
    expect(lintFlow(base, MINIMAL)).toEqual([]);
  });

  it('a transition to a widget that does not exist is an error', () => {
    const flow = copy();
    const t = widget(flow, 'publish').transitions.find((x) => x.event === 'success');
    if (t) t.next = 'thanks_typo';
    const found = errors(lintVariant(flow).findings);
    expect(where(found)).toEqual(['publish → transitions.success']);
    expect(found[0]?.message).toContain('"thanks_typo", which is not a widget');
  });

  it('a Run Function whose fail transition leads nowhere is an error', () => {
    const flow = copy();
    const t = widget(flow, 'encrypt').transitions.find((x) => x.event === 'fail');
    if (t) delete t.next;
    const found = errors(lintVariant(flow).findings);
    expect(where(found)).toEqual(['encrypt → transitions.fail']);
    expect(found[0]?.message).toContain('left hanging');
  });

  it("a widget missing one of its type's transitions is an error", () => {
    const flow = copy();
    const publish = widget(flow, 'publish');
    publish.transitions = publish.transitions.filter((t) => t.event !== 'success');
    const q = widget(flow, 'q_name');
    q.transitions = q.transitions.filter((t) => t.event !== 'deliveryFailure');
    const found = errors(lintVariant(flow).findings);
    expect(where(found)).toEqual(['q_name → transitions', 'publish → transitions']);
    expect(found[0]?.message).toContain('no "deliveryFailure" transition');
    expect(found[1]?.message).toContain('no "success" transition');
  });

  it('a widget nothing leads to is a warning', () => {
    const flow = copy();
    flow.states.push({ name: 'orphan', type: 'send-message', transitions: [{ event: 'sent' }, { event: 'failed' }], properties: { body: 'Hello?' } });
    const { findings } = lintVariant(flow);
    expect(errors(findings)).toEqual([]);
    expect(where(warnings(findings))).toEqual(['orphan → (widget)']);
  });

  it('a Liquid syntax error is an error naming the property', () => {
    const flow = copy();
    widget(flow, 'q_age').properties.body = 'How old are you, {{ flow.channel.address ?';
    parametersOf(widget(flow, 'publish')).push({ key: 'bad_tag', value: '{% iff x %}1{% endif %}' });
    const found = errors(lintVariant(flow).findings);
    expect(where(found)).toEqual(['q_age → body', 'publish → parameters.bad_tag']);
    expect(found.every((f) => f.message.startsWith('Liquid syntax error'))).toBe(true);
  });

  it('a reference to a widget that does not exist is an error', () => {
    const flow = copy();
    parametersOf(widget(flow, 'publish')).push({ key: 'age2', value: '{{widgets.q_agee.inbound.Body}}' });
    const found = errors(lintVariant(flow).findings);
    expect(where(found)).toEqual(['publish → parameters.age2']);
    expect(found[0]?.message).toContain('no widget named "q_agee"');
  });

  it('a reference to a widget that runs later is an error; one that runs on some paths only is a warning', () => {
    const flow = copy();
    widget(flow, 'q_name').properties.body = 'Hello! You said you are {{widgets.q_age.inbound.Body}}. What is your name?';
    widget(flow, 'bye_timeout').properties.body = 'Bye {{widgets.q_age.inbound.Body}}';
    const { findings } = lintVariant(flow);
    expect(where(errors(findings))).toEqual(['q_name → body']);
    expect(errors(findings)[0]?.message).toContain('q_age never runs before q_name');
    const references = warnings(findings).filter((f) => f.message.startsWith('refers to'));
    expect(where(references)).toEqual(['bye_timeout → body']);
    expect(references[0]?.message).toContain('some paths reach bye_timeout without running q_age');
  });

  it('a flow variable nobody sets is a warning', () => {
    const flow = copy();
    parametersOf(widget(flow, 'publish')).push({ key: 'lang', value: '{{flow.variables.language}}' });
    const { findings } = lintVariant(flow);
    expect(errors(findings)).toEqual([]);
    expect(warnings(findings).map((f) => f.message)).toEqual(['flow.variables.language is never set by a Set Variables widget, so it is always empty']);
  });

  it('a variable given to encrypt makes what it was set from personal data', () => {
    const flow = copy();
    afterEncrypt(flow, { name: 'unused', type: 'set-variables', properties: { variables: [] } });
    flow.states.push({ name: 'set_name', type: 'set-variables', transitions: [{ event: 'next', next: 'encrypt' }], properties: { variables: [{ key: 'name', value: '{{widgets.q_name.inbound.Body}}' }] } });
    const age = widget(flow, 'q_age').transitions.find((t) => t.event === 'incomingMessage');
    if (age) age.next = 'set_name';
    const enc = widget(flow, 'encrypt');
    enc.properties.parameters = [{ key: 'full_name', value: '{{flow.variables.name}}' }];
    parametersOf(widget(flow, 'publish')).push({ key: 'leak', value: '{{widgets.q_name.inbound.Body}}' }, { key: 'leak2', value: '{{flow.variables.name}}' });
    const found = errors(lintVariant(flow).findings);
    expect(where(found)).toEqual(['publish → parameters.leak', 'publish → parameters.leak2']);
    expect(found[1]?.message).toContain('via flow.variables.name');
  });
});

describe('flows/*.json', () => {
  const dir = join(ROOT, 'flows');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => join('flows', f)) : [];

  it(`lint without errors (${files.length} file(s): ${files.join(', ') || 'none yet'})`, () => {
    const found = files.flatMap((f) => errors(lintFlow(readFlow(join(ROOT, f)), f)));
    expect(found).toEqual([]);
  });
});

const cli = (args: readonly string[]) => runCli('sealed-survey', ['lint', ...args], { env: { NO_COLOR: '1' } });

describe('sealed-survey lint (CLI)', () => {
  const base = readFlow(MINIMAL);
  const leaky = structuredClone(base);
  parametersOf(widget(leaky, 'publish')).push({ key: 'leak', value: '{{widgets.q_name.inbound.Body | upcase}}' });
  const echoing = structuredClone(base);
  widget(echoing, 'thanks').properties.body = 'Thank you, {{widgets.q_name.inbound.Body}}!';
  const leakyFile = join(tmp, 'leaky.json');
  const echoFile = join(tmp, 'echo.json');
  const notJson = join(tmp, 'not-json.json');
  const notFlow = join(tmp, 'not-flow.json');
  writeFileSync(leakyFile, JSON.stringify(leaky));
  writeFileSync(echoFile, JSON.stringify({ definition: echoing }));
  // The fixture's publishable declaration, beside each copy as beside the fixture.
  mkdirSync(join(tmp, 'columns'), { recursive: true });
  for (const copy of [leakyFile, echoFile]) copyFileSync(join(ROOT, 'tests/flows/columns/minimal-survey.json'), declarationPath(copy));
  writeFileSync(notJson, '{"states": [');
  writeFileSync(notFlow, '{"hello": "world"}');
  const fixture = 'tests/flows/minimal-survey.json';

  it('exits 0 on a clean flow, 0 on warnings only, 1 on errors, with one line per finding', async () => {
    const [clean, warned, failed, several] = await Promise.all([cli([fixture]), cli([echoFile]), cli([leakyFile]), cli([fixture, leakyFile, echoFile])]);
    expect(clean).toMatchObject({ code: 0, stdout: '' });
    expect(clean.stderr).toContain('0 errors, 0 warnings in 1 flow');

    expect(warned.code).toBe(0);
    expect(warned.stdout).toMatch(new RegExp(`^${echoFile.replaceAll('\\', '\\\\')}: thanks → body: warning: PII from q_name \\(widgets\\.q_name\\.inbound\\.Body\\) is quoted back to the respondent.*\\n$`));
    expect(warned.stderr).toContain('0 errors, 1 warning in 1 flow');

    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe(
      `${leakyFile}: publish → parameters.leak: PII from q_name (widgets.q_name.inbound.Body) reaches the publish column "leak", which is neither sealed nor declared publishable, so it would be written to the sheet in plaintext: seal it (publish the sealed {{widgets.encrypt.parsed.full_name}} instead), or, only if publishing it in plaintext is acceptable, declare "leak" with the reason in ${declarationPath(leakyFile)}\n`,
    );
    expect(failed.stderr).toContain('1 error, 0 warnings in 1 flow');

    expect(several.code).toBe(1);
    expect(several.stdout.trim().split('\n').map((l) => l.slice(0, l.indexOf(':')))).toEqual([leakyFile, echoFile]);
    expect(several.stderr).toContain('1 error, 1 warning in 3 flows');
  });

  it('exits 2 naming the file and the fix when a file is missing, not JSON or not a flow; --help shows an example', async () => {
    const [missing, broken, other, mixed, none, help] = await Promise.all([
      cli(['flows/no-such-flow.json']),
      cli([notJson]),
      cli([notFlow]),
      cli([fixture, notJson]),
      cli([]),
      cli(['--help']),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read flows/no-such-flow.json: give the path of a flow exported from Studio');
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain(`${notJson} is not JSON: export the flow from Studio`);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain(`${notFlow} is not a Studio flow definition`);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain('1 file could not be linted');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("missing required argument 'flow.json'");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('$ sealed-survey lint flows/whatsapp-survey.json');
  });
});

describe('publish columns and the publishable declaration (tests/flows/minimal-survey.json)', () => {
  const base = readFlow(MINIMAL);
  const declared = JSON.parse(readFileSync(join(ROOT, 'tests/flows/columns/minimal-survey.json'), 'utf8')) as { publishable: Record<string, string> };
  let n = 0;
  /** A variant written with its declaration (the fixture's unless given; null: none) beside it, as a team commits them. */
  function survey(change: (flow: FlowDefinition) => void, declaration: unknown = declared): string {
    const flow = structuredClone(base);
    change(flow);
    const file = join(tmp, `survey-${++n}.json`);
    writeFileSync(file, JSON.stringify(flow));
    mkdirSync(join(tmp, 'columns'), { recursive: true });
    if (declaration !== null) writeFileSync(declarationPath(file), JSON.stringify(declaration));
    return file;
  }
  const lintFile = (file: string) => lintFlow(readFlow(file), file);

  it('an undeclared plain column is one error naming the column, the file to declare it in and the fix', () => {
    const file = survey((flow) => parametersOf(widget(flow, 'publish')).push({ key: 'language', value: 'sw' }));
    const found = errors(lintFile(file));
    expect(where(found)).toEqual(['publish → parameters.language']);
    expect(found[0]?.message).toContain(`"language" is published in plaintext but not declared publishable: if it can never hold personal data, add "language": "<why publishing it in plaintext is acceptable>" to "publishable" in ${declarationPath(file)}`);
  });

  it('no declaration beside a flow with plain columns is one error saying how to create it (and the raw answer in age is named as personal data)', () => {
    const file = survey(() => {}, null);
    const found = lintFile(file);
    expect(where(found)).toEqual(['publish → parameters.age', 'publish → parameters']);
    expect(found.map((f) => f.severity)).toEqual(['error', 'error']);
    expect(found[0]?.message).toMatch(/^PII from q_age \(widgets\.q_age\.inbound\.Body\) reaches the publish column "age", which is neither sealed nor declared publishable/);
    expect(found[1]?.message).toContain(`publishes age in plaintext, but no ${declarationPath(file)} declares them publishable: create it as {"publishable":{"age":"<why publishing it in plaintext is acceptable>"}}`);
  });

  it('an answer leaking into an undeclared column is reported once, as the leak', () => {
    const file = survey((flow) => parametersOf(widget(flow, 'publish')).push({ key: 'leak', value: '{{widgets.q_name.inbound.Body}}' }));
    const found = errors(lintFile(file));
    expect(where(found)).toEqual(['publish → parameters.leak']);
    expect(found[0]?.message).toMatch(/^PII from q_name .* reaches the publish column "leak"/);
  });

  it('a token with text around it is an error; a stale declaration is a warning', () => {
    const file = survey((flow) => parametersOf(widget(flow, 'publish')).push({ key: 'full_name_note', value: 'Name: {{widgets.encrypt.parsed.full_name}}' }), {
      publishable: { ...declared.publishable, gender: 'no longer asked' },
    });
    const found = lintFile(file);
    expect(where(errors(found))).toEqual(['publish → parameters.full_name_note']);
    expect(errors(found)[0]?.message).toContain('make the value exactly {{widgets.encrypt.parsed.full_name}}');
    expect(where(warnings(found))).toEqual(['(flow) → publishable.gender']);
  });

  it('a flow that publishes nothing needs no declaration and gets no column finding', () => {
    const file = survey((flow) => {
      const publishes = ['publish', 'publish_outcome'];
      flow.states = flow.states.filter((w) => !publishes.includes(w.name) && w.name !== 'row_not_stored');
      // What led to a publish widget now ends there (the outcome row's path) or thanks (the answers' path).
      for (const w of flow.states) for (const t of w.transitions) if (t.next !== undefined && publishes.includes(t.next)) delete t.next;
      const t = widget(flow, 'encrypt').transitions.find((x) => x.event === 'success');
      if (t) t.next = 'thanks';
    }, null);
    expect(lintFile(file)).toEqual([]);
  });

  it('the CLI exits 1 on an undeclared column and 0 once it is declared', async () => {
    const change = (flow: FlowDefinition) => parametersOf(widget(flow, 'publish')).push({ key: 'language', value: 'sw' });
    const undeclared = survey(change);
    const declaredToo = survey(change, { publishable: { ...declared.publishable, language: 'The language the survey ran in, set by the flow: never typed by the respondent.' } });
    const [failed, clean] = await Promise.all([cli([undeclared]), cli([declaredToo])]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe(`${undeclared}: publish → parameters.language: "language" is published in plaintext but not declared publishable: if it can never hold personal data, add "language": "<why publishing it in plaintext is acceptable>" to "publishable" in ${declarationPath(undeclared)}; if it can, give it to the encrypt widget and publish {{widgets.<encrypt>.parsed.language}}\n`);
    expect(clean).toMatchObject({ code: 0, stdout: '' });
  });
});
