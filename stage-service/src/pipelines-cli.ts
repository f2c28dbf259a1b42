/**
 * `istio-traffic-shift pipelines …`: the I/O around packages/pipelines (which is pure).
 *
 *   pipelines render --params spin/config.json --manifests k8s/ [--out DIR]
 *   pipelines check  --params spin/config.json --manifests k8s/ [--out DIR]
 *   pipelines apply  --params spin/config.json --manifests k8s/ --gate URL [--dry-run] [--prune] [--owner-email ADDRESS]
 *
 * --out defaults to `pipelines/` next to `spin/`. `apply` authenticates with the bearer token in
 * $GATE_TOKEN or the session cookie in $GATE_SESSION (environment, so they never show in `ps`);
 * creates the application when Front50 has none (Front50 needs an owner email: --owner-email);
 * lists the pipelines it generated earlier from the same parameter file that are no longer
 * rendered, and deletes them with --prune (never a pipeline it did not generate).
 * Exit codes: 0 done (or fresh), 1 stale / Gate refused, 2 bad usage or bad input (nothing written).
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'fs';
import * as path from 'path';
import { GENERATED_FROM_FIELD, formatProblems, lineDiff, render } from '@istio-shift/pipelines';
import type { InputProblem, Pipeline, RenderedFile } from '@istio-shift/pipelines';
import { UsageError, parseFlags } from './cli-flags';
import { GateClient, GateError, StoredPipeline } from './pipelines-gate';

type Out = (line: string) => void;

interface Options {
  command: 'render' | 'check' | 'apply';
  params: string;
  manifests: string;
  out?: string;
  gate?: string;
  dryRun: boolean;
  prune: boolean;
  ownerEmail?: string;
}

const USAGE =
  'usage: istio-traffic-shift pipelines render|check|apply --params spin/config.json --manifests k8s/ [--out DIR] [--gate URL] [--dry-run] [--prune] [--owner-email ADDRESS]';

function parseArgs(argv: string[]): Options {
  const [command, ...rest] = argv;
  if (command !== 'render' && command !== 'check' && command !== 'apply') throw new UsageError(USAGE);
  const flags = parseFlags(rest, { params: 'value', manifests: 'value', out: 'value', gate: 'value', 'dry-run': 'switch', prune: 'switch', 'owner-email': 'value' }, USAGE);
  const options: Partial<Options> = { command, dryRun: flags['dry-run'] === true, prune: flags.prune === true };
  if (typeof flags['owner-email'] === 'string') options.ownerEmail = flags['owner-email'];
  if (typeof flags.params === 'string') options.params = flags.params;
  if (typeof flags.manifests === 'string') options.manifests = flags.manifests;
  if (typeof flags.out === 'string') options.out = flags.out;
  if (typeof flags.gate === 'string') options.gate = flags.gate;
  if (!options.params) throw new UsageError(`--params is required\n${USAGE}`);
  if (!options.manifests) throw new UsageError(`--manifests is required\n${USAGE}`);
  if (command === 'apply' && !options.gate) throw new UsageError('apply needs --gate URL (Gate\'s base URL, e.g. https://gate.example.com)');
  if (command !== 'apply' && (options.prune || options.ownerEmail)) throw new UsageError(`--prune and --owner-email are for apply\n${USAGE}`);
  return options as Options;
}

function outDir(options: Options): string {
  return options.out ?? path.join(path.dirname(path.dirname(path.resolve(options.params))), 'pipelines');
}

/**
 * Size limits on what is read, so that a wrong path (a log, a binary, a generated dump) is refused
 * with a message before it is parsed into memory or inlined into a pipeline Front50 must store. A
 * real parameter file is a few KiB (the example's is 0.4 KiB) and a service's manifests tens of
 * KiB: the limits are far above both.
 */
export const INPUT_LIMITS = { paramsBytes: 1024 * 1024, manifestFileBytes: 1024 * 1024, manifestsDirBytes: 5 * 1024 * 1024 };
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(bytes % (1024 * 1024) ? 2 : 0)} MiB`;

type Inputs = { paramsText: string; manifests: { file: string; text: string }[] };

/** Reads the parameter file and k8s/, within the limits; every problem at once, nothing parsed on failure. */
function readInputs(options: Options): Inputs | InputProblem[] {
  const problems: InputProblem[] = [];
  const tooBig = (file: string, size: number, limit: number, what: string): InputProblem => ({
    file,
    path: '(file)',
    message: `${what} is ${mib(size)}, over the ${mib(limit)} limit`,
    fix: 'check the path: this is not a hand-written file; split it or keep only what the pipeline needs',
  });
  let paramsText = '';
  try {
    const { size } = statSync(options.params);
    if (size > INPUT_LIMITS.paramsBytes) problems.push(tooBig(options.params, size, INPUT_LIMITS.paramsBytes, 'the parameter file'));
    else paramsText = readFileSync(options.params, 'utf8');
  } catch (error) {
    problems.push({ file: options.params, path: '(file)', message: `cannot read it: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, fix: 'pass the path of spin/config.json with --params' });
  }
  if (!existsSync(options.manifests) || !statSync(options.manifests).isDirectory()) {
    problems.push({ file: options.manifests, path: '(directory)', message: 'not a directory of Kubernetes manifests', fix: 'pass the k8s/ directory with --manifests' });
    return problems;
  }
  const manifests: Inputs['manifests'] = [];
  let total = 0;
  for (const name of readdirSync(options.manifests).filter((n) => /\.ya?ml$/.test(n)).sort()) {
    const file = path.join(options.manifests, name);
    const stat = statSync(file);
    if (!stat.isFile()) {
      problems.push({ file, path: '(file)', message: 'not a regular file', fix: 'k8s/ holds .yaml files: rename or move it' });
      continue;
    }
    total += stat.size;
    if (stat.size > INPUT_LIMITS.manifestFileBytes) problems.push(tooBig(file, stat.size, INPUT_LIMITS.manifestFileBytes, 'the manifest file'));
    else if (total <= INPUT_LIMITS.manifestsDirBytes) manifests.push({ file, text: readFileSync(file, 'utf8') });
  }
  if (total > INPUT_LIMITS.manifestsDirBytes) problems.push(tooBig(options.manifests, total, INPUT_LIMITS.manifestsDirBytes, `${path.basename(options.manifests)}/ (its .yaml files together)`));
  return problems.length ? problems : { paramsText, manifests };
}

/**
 * Where the pipelines say they come from: the parameter file's path in its git work tree (found by
 * walking up to `.git`), else from the directory above `spin/`. Never an absolute path, so the
 * rendered files are the same on every machine.
 */
export function sourcePath(paramsFile: string): string {
  const absolute = path.resolve(paramsFile);
  for (let dir = path.dirname(absolute); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, '.git'))) return path.relative(dir, absolute).split(path.sep).join('/');
    if (path.dirname(dir) === dir) break;
  }
  return path.relative(path.dirname(path.dirname(absolute)), absolute).split(path.sep).join('/');
}

/** Reads the inputs and renders; on bad input prints every problem and returns undefined. */
function renderFromDisk(options: Options, out: Out): RenderedFile[] | undefined {
  const inputs = readInputs(options);
  const result = Array.isArray(inputs)
    ? ({ ok: false, problems: inputs } as const)
    : render({ paramsFile: options.params, paramsText: inputs.paramsText, manifestsDir: options.manifests, manifests: inputs.manifests, generatedFrom: sourcePath(options.params) });
  if (!result.ok) {
    out(`error: ${result.problems.length} problem(s); nothing was written or applied:`);
    out(formatProblems(result.problems));
    return undefined;
  }
  return result.files;
}

/**
 * Writes every file or none: each goes to a temporary file next to its target first; only when all
 * are written are they renamed into place (the previous files moved aside, and put back if a
 * rename fails). A target that is not a regular file is refused before anything is written.
 */
export function writeAllOrNothing(dir: string, files: { name: string; text: string }[]): void {
  for (const file of files) {
    const target = path.join(dir, file.name);
    if (existsSync(target) && !lstatSync(target).isFile()) throw new Error(`${target} exists and is not a regular file`);
  }
  const stamp = `${process.pid}-${Date.now()}`;
  const temps: string[] = [];
  const placed: { target: string; backup?: string }[] = [];
  try {
    for (const file of files) {
      const temp = path.join(dir, `.${file.name}.${stamp}.tmp`);
      temps.push(temp);
      writeFileSync(temp, file.text);
    }
    files.forEach((file, i) => {
      const target = path.join(dir, file.name);
      const backup = existsSync(target) ? path.join(dir, `.${file.name}.${stamp}.bak`) : undefined;
      if (backup) renameSync(target, backup);
      placed.push({ target, backup });
      renameSync(temps[i], target);
    });
  } catch (error) {
    for (const { target, backup } of placed.reverse()) {
      rmSync(target, { force: true });
      if (backup) renameSync(backup, target);
    }
    for (const temp of temps) rmSync(temp, { force: true });
    throw error;
  }
  for (const { backup } of placed) if (backup) rmSync(backup, { force: true });
}

function renderCommand(options: Options, files: RenderedFile[], out: Out): number {
  const dir = outDir(options);
  try {
    mkdirSync(dir, { recursive: true });
    writeAllOrNothing(dir, files);
  } catch (error) {
    out(`error: cannot write the pipelines to ${dir}: ${(error as Error).message}; nothing was written`);
    return 2;
  }
  for (const file of files) out(`wrote ${path.join(dir, file.name)} (${file.pipeline.stages.length} stages)`);
  return 0;
}

function checkCommand(options: Options, files: RenderedFile[], out: Out): number {
  const dir = outDir(options);
  let stale = 0;
  for (const file of files) {
    const target = path.join(dir, file.name);
    const committed = existsSync(target) ? readFileSync(target, 'utf8') : '';
    if (committed === file.text) continue;
    stale++;
    out(committed ? `stale: ${target}` : `missing: ${target}`);
    out(lineDiff(committed, file.text));
  }
  const expected = new Set(files.map((f) => f.name));
  if (existsSync(dir)) {
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.json') && !expected.has(n))) {
      stale++;
      out(`extra: ${path.join(dir, name)} is no longer rendered (delete it)`);
    }
  }
  if (stale) {
    out(`${stale} pipeline file(s) out of date: run \`istio-traffic-shift pipelines render --params ${options.params} --manifests ${options.manifests}\` and commit the result`);
    return 1;
  }
  out(`${files.length} pipeline file(s) up to date`);
  return 0;
}

/** Fields Front50 adds or manages: not part of what we compare. */
const SERVER_FIELDS = ['updateTs', 'lastModifiedBy', 'index', 'createTs', 'schema'];

/** `value` with the keys of every object, at every depth, in sorted order (arrays keep theirs). */
export function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/**
 * The pipeline as compared and diffed: server-managed fields dropped, keys sorted at every depth
 * (so Front50's key order never counts as a change, and every nested field does), one per line.
 * (An array replacer to JSON.stringify would filter keys at every depth: nested edits went unseen.)
 */
export function comparable(pipeline: Record<string, unknown>): string {
  const copy: Record<string, unknown> = { ...pipeline };
  for (const key of SERVER_FIELDS) delete copy[key];
  return `${JSON.stringify(canonical(copy), null, 2)}\n`;
}

function gateHeaders(): Record<string, string> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (process.env.GATE_TOKEN) headers.Authorization = `Bearer ${process.env.GATE_TOKEN}`;
  else if (process.env.GATE_SESSION) headers.Cookie = `SESSION=${process.env.GATE_SESSION}`;
  return headers;
}

/** Front50's view of one application before apply changes anything: its pipelines, or missing. */
type ApplicationState = { exists: true; pipelines: StoredPipeline[] } | { exists: false; pipelines: [] };

async function readApplications(gate: GateClient, files: RenderedFile[]): Promise<Map<string, ApplicationState>> {
  const states = new Map<string, ApplicationState>();
  for (const { pipeline } of files) {
    if (states.has(pipeline.application)) continue;
    const exists = await gate.applicationExists(pipeline.application);
    states.set(pipeline.application, exists ? { exists, pipelines: await gate.listPipelines(pipeline.application) } : { exists, pipelines: [] });
  }
  return states;
}

/**
 * Pipelines this tool generated from the same parameter file (its mark says so) that are no longer
 * rendered: candidates for --prune. A pipeline without the mark (made by hand, or by another
 * parameter file) is never one, whatever its name.
 */
function stalePipelines(stored: StoredPipeline[], rendered: Pipeline[], source: string): StoredPipeline[] {
  const ids = new Set(rendered.map((p) => p.id));
  const names = new Set(rendered.map((p) => p.name.trim().toLowerCase()));
  return stored.filter((p) => p[GENERATED_FROM_FIELD] === source && typeof p.name === 'string' && !ids.has(String(p.id)) && !names.has(p.name.trim().toLowerCase()));
}

async function applyCommand(options: Options, files: RenderedFile[], out: Out): Promise<number> {
  const gate = new GateClient({ baseUrl: options.gate!, headers: gateHeaders() });
  const source = sourcePath(options.params);
  const states = await readApplications(gate, files);
  for (const [application, state] of states) {
    if (state.exists) continue;
    if (options.dryRun) {
      out(`would create application: ${application}${options.ownerEmail ? ` (owner ${options.ownerEmail})` : ' (needs --owner-email)'}`);
      continue;
    }
    if (!options.ownerEmail) {
      out(`error: Spinnaker has no application "${application}"; pass --owner-email ADDRESS to create it (Front50 refuses an application without an email), or create it in Deck; nothing was applied`);
      return 1;
    }
    await gate.createApplication(application, options.ownerEmail);
    out(`created application: ${application} (owner ${options.ownerEmail})`);
  }
  let failures = 0;
  for (const file of files) {
    const pipeline: Pipeline = file.pipeline;
    const existing = states.get(pipeline.application)!.pipelines;
    const sameId = existing.find((p) => p.id === pipeline.id);
    // Front50's checkForDuplicatePipeline compares names with equalsIgnoreCase: so do we, to refuse cleanly.
    const sameName = existing.find((p) => typeof p.name === 'string' && p.name.toLowerCase() === pipeline.name.toLowerCase() && p.id !== pipeline.id);
    if (sameName) {
      const as = sameName.name === pipeline.name ? '' : ` as "${String(sameName.name)}"`;
      out(`refused: "${pipeline.name}" already exists${as} with id ${String(sameName.id)}, not written by this tool; rename or delete it in Deck, then apply again`);
      failures++;
      continue;
    }
    if (sameId && comparable(sameId) === comparable(pipeline)) {
      out(`unchanged: ${pipeline.name} (${pipeline.id})`);
      continue;
    }
    const verb = sameId ? 'update' : 'create';
    if (options.dryRun) {
      out(`would ${verb}: ${pipeline.name} (${pipeline.id})`);
      out(lineDiff(sameId ? comparable(sameId) : '', comparable(pipeline)));
      continue;
    }
    try {
      await gate.savePipeline(pipeline);
    } catch (error) {
      if (!(error instanceof GateError) || error.status === 401 || error.status === 403) throw error;
      out(`error: ${error.message}`);
      failures++;
      continue;
    }
    out(`${verb}d: ${pipeline.name} (${pipeline.id})`);
  }
  for (const [application, state] of states) {
    for (const stale of stalePipelines(state.pipelines, files.map((f) => f.pipeline).filter((p) => p.application === application), source)) {
      const name = String(stale.name);
      if (!options.prune) {
        out(`stale: ${name} (${String(stale.id)}) was generated from ${source} and is no longer rendered; apply --prune deletes it`);
      } else if (options.dryRun) {
        out(`would delete: ${name} (${String(stale.id)})`);
      } else if (failures) {
        // Deleting while a save failed could leave the application with neither pipeline.
        out(`kept: ${name} (${String(stale.id)}): not pruned because a save above failed`);
      } else {
        await gate.deletePipeline(application, name);
        out(`deleted: ${name} (${String(stale.id)})`);
      }
    }
  }
  return failures ? 1 : 0;
}

export async function runPipelines(argv: string[], out: Out = (line) => process.stdout.write(`${line}\n`)): Promise<number> {
  let options: Options;
  try {
    options = parseArgs(argv);
  } catch (error) {
    out(`error: ${(error as Error).message}`);
    return 2;
  }
  const files = renderFromDisk(options, out);
  if (!files) return 2;
  if (options.command === 'render') return renderCommand(options, files, out);
  if (options.command === 'check') return checkCommand(options, files, out);
  try {
    return await applyCommand(options, files, out);
  } catch (error) {
    out(error instanceof GateError ? `error: ${error.message}` : `error: cannot reach Gate at ${options.gate}: ${(error as Error).message}`);
    return 1;
  }
}
