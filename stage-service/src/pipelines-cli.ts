/**
 * `istio-traffic-shift pipelines …`: the I/O around packages/pipelines (which is pure).
 *
 *   pipelines render --params spin/config.json --manifests k8s/ [--out DIR]
 *   pipelines check  --params spin/config.json --manifests k8s/ [--out DIR]
 *   pipelines apply  --params spin/config.json --manifests k8s/ --gate URL [--dry-run]
 *
 * --out defaults to `pipelines/` next to `spin/`. `apply` authenticates with the bearer token in
 * $GATE_TOKEN or the session cookie in $GATE_SESSION (environment, so they never show in `ps`).
 * Exit codes: 0 done (or fresh), 1 stale / Gate refused, 2 bad usage or bad input (nothing written).
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'fs';
import * as path from 'path';
import { formatProblems, lineDiff, render } from '@istio-shift/pipelines';
import type { Pipeline, RenderedFile } from '@istio-shift/pipelines';
import { UsageError, parseFlags } from './cli-flags';

type Out = (line: string) => void;

interface Options {
  command: 'render' | 'check' | 'apply';
  params: string;
  manifests: string;
  out?: string;
  gate?: string;
  dryRun: boolean;
}

const USAGE =
  'usage: istio-traffic-shift pipelines render|check|apply --params spin/config.json --manifests k8s/ [--out DIR] [--gate URL] [--dry-run]';

function parseArgs(argv: string[]): Options {
  const [command, ...rest] = argv;
  if (command !== 'render' && command !== 'check' && command !== 'apply') throw new UsageError(USAGE);
  const flags = parseFlags(rest, { params: 'value', manifests: 'value', out: 'value', gate: 'value', 'dry-run': 'switch' }, USAGE);
  const options: Partial<Options> = { command, dryRun: flags['dry-run'] === true };
  if (typeof flags.params === 'string') options.params = flags.params;
  if (typeof flags.manifests === 'string') options.manifests = flags.manifests;
  if (typeof flags.out === 'string') options.out = flags.out;
  if (typeof flags.gate === 'string') options.gate = flags.gate;
  if (!options.params) throw new UsageError(`--params is required\n${USAGE}`);
  if (!options.manifests) throw new UsageError(`--manifests is required\n${USAGE}`);
  if (command === 'apply' && !options.gate) throw new UsageError('apply needs --gate URL (Gate\'s base URL, e.g. https://gate.example.com)');
  return options as Options;
}

function outDir(options: Options): string {
  return options.out ?? path.join(path.dirname(path.dirname(path.resolve(options.params))), 'pipelines');
}

/** Reads the inputs and renders; on bad input prints every problem and returns undefined. */
function renderFromDisk(options: Options, out: Out): RenderedFile[] | undefined {
  let paramsText: string;
  try {
    paramsText = readFileSync(options.params, 'utf8');
  } catch (error) {
    out(`error: cannot read ${options.params}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    return undefined;
  }
  if (!existsSync(options.manifests) || !statSync(options.manifests).isDirectory()) {
    out(`error: ${options.manifests} is not a directory of Kubernetes manifests`);
    return undefined;
  }
  const manifests = readdirSync(options.manifests)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => ({ file: path.join(options.manifests, name), text: readFileSync(path.join(options.manifests, name), 'utf8') }));
  const result = render({ paramsFile: options.params, paramsText, manifestsDir: options.manifests, manifests });
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

async function applyCommand(options: Options, files: RenderedFile[], out: Out): Promise<number> {
  const gate = options.gate!.replace(/\/+$/, '');
  const headers = gateHeaders();
  const byApplication = new Map<string, Record<string, unknown>[]>();
  for (const file of files) {
    const application = file.pipeline.application;
    if (!byApplication.has(application)) {
      const response = await fetch(`${gate}/applications/${encodeURIComponent(application)}/pipelineConfigs`, { headers });
      if (response.status === 401 || response.status === 403) {
        out(`error: Gate answered ${response.status} for ${application}'s pipelines: set GATE_TOKEN (bearer token) or GATE_SESSION (session cookie) for a user who may write ${application}`);
        return 1;
      }
      if (!response.ok) {
        out(`error: Gate answered ${response.status} listing ${application}'s pipelines: ${(await response.text()).slice(0, 300)}`);
        return 1;
      }
      byApplication.set(application, (await response.json()) as Record<string, unknown>[]);
    }
  }
  let failures = 0;
  for (const file of files) {
    const pipeline: Pipeline = file.pipeline;
    const existing = byApplication.get(pipeline.application) ?? [];
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
    const response = await fetch(`${gate}/pipelines`, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify(pipeline) });
    if (!response.ok) {
      out(`error: Gate answered ${response.status} saving ${pipeline.name}: ${(await response.text()).slice(0, 300)}`);
      failures++;
      continue;
    }
    out(`${verb}d: ${pipeline.name} (${pipeline.id})`);
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
    out(`error: cannot reach Gate at ${options.gate}: ${(error as Error).message}`);
    return 1;
  }
}
