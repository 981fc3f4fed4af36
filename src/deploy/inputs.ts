// Everything deploy reads on the operator's machine, and the checks it can
// make there: the environment file, the built Functions and assets, the flows
// with their lint findings and columns. Nothing here talks to Twilio.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseEnv } from 'node:util';
import { surveyColumns } from '../flow/columns.js';
import { parseFlow } from '../flow/definition.js';
import { lintFlow } from '../flow/lint.js';
import { checkUpload, checkVariables, functionVariables, type Finding } from './preflight.js';

/** The Node.js runtime the Functions are built for and deployed with. */
export const RUNTIME = 'node22';

export interface Upload {
  readonly path: string;
  readonly name: string;
  readonly access: 'public' | 'protected' | 'private';
  /** The file on disk. */
  readonly filePath: string;
  readonly content: Buffer;
}

export interface FlowInput {
  readonly file: string;
  /** Studio's friendly name: the file's name without .json. */
  readonly friendlyName: string;
  /** The definition exactly as in the file. */
  readonly raw: Record<string, unknown>;
  readonly header: readonly string[];
  readonly piiColumns: readonly string[];
}

export interface Inputs {
  readonly envName: string;
  readonly envFile: string;
  /** The env file as read (credentials included). */
  readonly envValues: Readonly<Record<string, string>>;
  /** What the Functions will get: the env file less TWILIO_*, plus PII_COLUMNS from the flows. */
  readonly variables: Readonly<Record<string, string>>;
  readonly functions: readonly Upload[];
  readonly assets: readonly Upload[];
  readonly dependencies: Readonly<Record<string, string>>;
  readonly flows: readonly FlowInput[];
  /** The sheet's row 1 as the flows derive it. */
  readonly header: readonly string[];
  readonly findings: readonly Finding[];
}

const ENV_NAME = /^[a-z][a-z0-9-]{0,15}$/;

/** What the build produced, as twilio-run reads folders: `.protected` and `.private` in a name set its access. */
function uploadsIn(dir: string, kind: 'functions' | 'assets', list: () => string[]): Upload[] {
  return list().map((name) => {
    const access = name.includes('.protected.') ? 'protected' : name.includes('.private.') ? 'private' : 'public';
    const bare = kind === 'functions' ? name.replace(/\.(protected|private)\.js$|\.js$/, '') : name.replace(/\.(protected|private)\./, '.');
    const filePath = join(dir, name);
    return { path: `/${bare}`, name: bare, access, filePath, content: readFileSync(filePath) };
  });
}

/**
 * Reads and checks everything local. `root` is the project (build/ must be
 * built), `envName` selects `.env.<envName>`.
 */
export function readInputs(root: string, envName: string, flowFiles: readonly string[], readDir: (dir: string) => string[]): Inputs {
  const findings: Finding[] = [];
  if (!ENV_NAME.test(envName)) findings.push({ problem: `"${envName}" is not an environment name`, fix: 'use lower-case letters, digits and "-", at most 16 characters, e.g. --env dev or --env prod' });
  const envFile = `.env.${envName}`;
  const envPath = join(root, envFile);
  let envValues: Record<string, string> = {};
  if (!existsSync(envPath)) findings.push({ problem: `${envFile} does not exist`, fix: `create it from .env.example: it holds the Functions' variables for the "${envName}" environment` });
  else envValues = parseEnv(readFileSync(envPath, 'utf8')) as Record<string, string>;

  const build = join(root, 'build');
  const functions = existsSync(join(build, 'functions')) ? uploadsIn(join(build, 'functions'), 'functions', () => readDir(join(build, 'functions')).filter((f) => f.endsWith('.js'))) : [];
  const assets = existsSync(join(build, 'assets')) ? uploadsIn(join(build, 'assets'), 'assets', () => readDir(join(build, 'assets'))) : [];
  if (functions.length === 0) findings.push({ problem: 'build/functions holds no Function', fix: 'run `npm run build` (npm ci runs it too)' });
  for (const f of functions) {
    if (f.access !== 'protected') findings.push({ problem: `build/functions/${basename(f.filePath)} would be deployed ${f.access}`, fix: f.access === 'private' ? 'Functions that Studio calls must be protected: a private Function answers Studio with 403' : 'a public Function answers anyone: name it *.protected.ts' });
  }
  findings.push(...checkUpload([...functions, ...assets].map((u) => ({ path: u.filePath, visibility: u.access }))));

  const pkg = existsSync(join(build, 'package.json')) ? (JSON.parse(readFileSync(join(build, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }) : {};
  const flows: FlowInput[] = [];
  for (const file of flowFiles) {
    let raw: Record<string, unknown>;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
      raw = JSON.parse(text) as Record<string, unknown>;
    } catch {
      findings.push({ problem: `${file} cannot be read as JSON`, fix: 'give the path of a flow exported from Studio (Export to JSON)' });
      continue;
    }
    let flow;
    try {
      flow = parseFlow(text, file);
    } catch (error) {
      findings.push({ problem: (error as Error).message, fix: 'fix the file, or export it again from Studio' });
      continue;
    }
    for (const f of lintFlow(flow, file).filter((x) => x.severity === 'error')) {
      findings.push({ problem: `${file}: ${f.widget} → ${f.property}: ${f.message}`, fix: 'run `sealed-survey lint` on the flow and fix what it reports' });
    }
    const columns = surveyColumns(flow, file);
    flows.push({ file, friendlyName: basename(file).replace(/\.json$/i, ''), raw, header: columns.header, piiColumns: columns.piiColumns });
  }
  const publishing = flows.filter((f) => f.header.length > 0);
  const [first] = publishing;
  for (const other of publishing.slice(1)) {
    if (other.header.join('\u0000') !== first?.header.join('\u0000')) {
      findings.push({ problem: `${other.file} publishes other columns than ${first?.file}, into the same sheet`, fix: 'deploy flows that write different columns to separate environments (--env), each with its own SHEET_ID' });
    }
  }
  const header = first?.header ?? [];

  const envFileVariables = functionVariables(envValues);
  findings.push(...checkVariables(envFileVariables, envFile));
  if ('PII_COLUMNS' in envFileVariables) findings.push({ problem: `${envFile} sets PII_COLUMNS`, fix: 'remove it: deploy derives PII_COLUMNS from the flow (sealed-survey flow columns shows them)' });
  const { PII_COLUMNS: _ignored, ...rest } = envFileVariables;
  const variables = { ...rest, PII_COLUMNS: first ? (first.piiColumns.length > 0 ? first.piiColumns.join(',') : '-') : '-' };
  return { envName, envFile, envValues, variables, functions, assets, dependencies: pkg.dependencies ?? {}, flows, header, findings };
}

/** A fingerprint of what the Functions would run: code, assets, access, dependencies, runtime, variables. Equal → nothing to deploy. */
export function fingerprint(inputs: Pick<Inputs, 'functions' | 'assets' | 'dependencies' | 'variables'>): string {
  const hash = createHash('sha256');
  for (const u of [...inputs.functions, ...inputs.assets].sort((a, b) => a.path.localeCompare(b.path))) {
    hash.update(`${u.path}\u0000${u.access}\u0000`).update(createHash('sha256').update(u.content).digest());
  }
  hash.update(JSON.stringify(Object.entries(inputs.dependencies).sort()));
  hash.update(JSON.stringify(Object.entries(inputs.variables).sort()));
  hash.update(RUNTIME);
  return hash.digest('hex').slice(0, 24);
}
