/**
 * The parameter file (`spin/config.json`): its types, its validation against the published JSON
 * Schema (schema/params.schema.json, with ajv) with line numbers from the file itself, and the
 * defaults that make a small file a complete, safe pipeline.
 */
import Ajv, { ErrorObject } from 'ajv';
import { parse as parseWithPointers } from 'json-source-map';
import type { AnalysisSpec } from '@istio-shift/core';
import { InputProblem, pointerToPath, positionAt } from './problems';
import { TrackWorkload, referenceAnalysis } from './reference-analysis';

// A JSON module, loaded relative to this file from src/ (tests) and dist/ (the CLI) alike.
 
export const PARAMS_SCHEMA = require('../schema/params.schema.json') as Record<string, unknown>;

export type Trigger =
  | { type: 'manual' }
  | { type: 'docker'; account: string; organization?: string; repository: string; tag?: string }
  | { type: 'pubsub'; pubsubSystem?: 'google' | 'amazon'; subscription: string }
  | { type: 'git'; source: string; project: string; slug: string; branch?: string };

export interface StepParams {
  weights: [number, number, number];
  warmup?: string;
  analysis: string;
}

export type Judge =
  | { type: 'analysis'; source?: string; analysis?: AnalysisSpec }
  | { type: 'kayenta'; canaryConfigId: string; metricsAccount: string; storageAccount: string; pass?: number; marginal?: number }
  | { type: 'none' };

export type Addressing =
  | { mode: 'subsets'; release?: string; baseline?: string; canary?: string }
  | { mode: 'hosts'; trackLabel?: string };

export interface NotificationParams {
  type: string;
  address: string;
  when?: string[];
}

/** One environment of a multi-environment file: what it does not set comes from the top level. */
export interface EnvironmentParams {
  name: string;
  account?: string;
  namespace?: string;
  replicas?: { baseline?: number; canary?: number };
  steps?: StepParams[];
  judge?: Judge;
  manualJudgment?: { instructions?: string };
}

export interface PipelineParams {
  application: string;
  /** Required unless `environments` gives every environment its own. */
  account?: string;
  namespace?: string;
  service: string;
  deployment?: string;
  container?: string;
  virtualService: { name: string; route: string };
  addressing?: Addressing;
  replicas?: { baseline?: number; canary?: number };
  triggers?: Trigger[];
  steps?: StepParams[];
  judge?: Judge;
  notifications?: NotificationParams[];
  pipelines?: { rollback?: boolean; promote?: boolean };
  environments?: EnvironmentParams[];
}

/** The parameters with every default filled in: what the renderer works from. */
export interface ResolvedParams {
  application: string;
  account: string;
  namespace: string;
  service: string;
  deployment: string;
  container?: string;
  virtualService: { name: string; route: string };
  addressing: { mode: 'subsets'; release: string; baseline: string; canary: string } | { mode: 'hosts'; trackLabel: string };
  replicas: { baseline: number; canary: number };
  triggers: Trigger[];
  steps: StepParams[];
  judge: Judge;
  notifications: NotificationParams[];
  pipelines: { rollback: boolean; promote: boolean };
  /** Set in a multi-environment file: the environment's name and its approval, if any. */
  environment?: { name: string; manualJudgment?: { instructions?: string } };
}

/** The reference preset (Descartes Labs): 80/10/10 with 1 min warm-up + 10 min analysis, then 34/33/33 for 20 min. */
export const REFERENCE_STEPS: readonly StepParams[] = [
  { weights: [80, 10, 10], warmup: '1m', analysis: '10m' },
  { weights: [34, 33, 33], analysis: '20m' },
];

export function resolveParams(params: PipelineParams): ResolvedParams {
  const addressing = params.addressing ?? { mode: 'subsets' };
  return {
    application: params.application,
    // Present: the schema requires them without environments, semanticProblems for each environment.
    account: params.account as string,
    namespace: params.namespace as string,
    service: params.service,
    deployment: params.deployment ?? params.service,
    container: params.container,
    virtualService: params.virtualService,
    addressing:
      addressing.mode === 'hosts'
        ? { mode: 'hosts', trackLabel: addressing.trackLabel ?? 'track' }
        : { mode: 'subsets', release: addressing.release ?? 'release', baseline: addressing.baseline ?? 'baseline', canary: addressing.canary ?? 'canary' },
    replicas: { baseline: params.replicas?.baseline ?? 1, canary: params.replicas?.canary ?? 1 },
    triggers: params.triggers ?? [{ type: 'manual' }],
    steps: params.steps ?? REFERENCE_STEPS.map((step) => ({ ...step, weights: [...step.weights] as [number, number, number] })),
    judge: params.judge ?? { type: 'analysis' },
    notifications: params.notifications ?? [],
    pipelines: { rollback: params.pipelines?.rollback ?? true, promote: params.pipelines?.promote ?? true },
  };
}

/**
 * The environments in order, each with every default filled in: its own fields over the top-level
 * ones. A file without `environments` is one environment with no name (its pipelines are named and
 * shaped as before environments existed).
 */
export function resolveEnvironments(params: PipelineParams): ResolvedParams[] {
  if (!params.environments) return [resolveParams(params)];
  const { environments, ...common } = params;
  return environments.map(({ name, manualJudgment, ...own }) => ({
    ...resolveParams({ ...common, ...own }),
    environment: { name, ...(manualJudgment ? { manualJudgment } : {}) },
  }));
}

/** The analysis block the shift stage carries: the author's, or the reference preset for these workloads. */
export function analysisFor(params: ResolvedParams, workloads: { baseline: TrackWorkload; canary: TrackWorkload }): AnalysisSpec | undefined {
  if (params.judge.type !== 'analysis') return undefined;
  if (params.judge.analysis) return params.judge.analysis;
  return referenceAnalysis({ source: params.judge.source ?? 'prometheus', namespace: params.namespace, ...workloads });
}

let compiled: ReturnType<Ajv['compile']> | undefined;
function validator() {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, discriminator: true, strict: false });
    compiled = ajv.compile(PARAMS_SCHEMA);
  }
  return compiled;
}

function schemaAt(pointer: string): Record<string, unknown> | undefined {
  // Walks the schema along a schemaPath like `#/properties/steps/items/properties/weights/type`.
  let node: unknown = PARAMS_SCHEMA;
  for (const key of pointer.replace(/^#\/?/, '').split('/').filter(Boolean)) {
    if (!node || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node && typeof node === 'object' ? (node as Record<string, unknown>) : undefined;
}

function describe(schemaPath: string): string {
  const parent = schemaAt(schemaPath.replace(/\/[^/]+$/, ''));
  return typeof parent?.description === 'string' ? ` (${parent.description})` : '';
}

function problemFor(error: ErrorObject, file: string, lineOf: (pointer: string) => number | undefined): InputProblem {
  const pointer = error.instancePath;
  const path = pointerToPath(pointer);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const field = String(params.additionalProperty);
      const known = Object.keys((schemaAt(error.schemaPath.replace(/\/additionalProperties$/, '/properties')) ?? {}) as object);
      return {
        file,
        line: lineOf(`${pointer}/${field}`),
        path: pointerToPath(`${pointer}/${field}`),
        message: `unknown field "${field}"`,
        fix: `remove it or correct its spelling; the fields here are: ${known.join(', ')}`,
      };
    }
    case 'required': {
      const field = String(params.missingProperty);
      // A conditional requirement (`then`) has no properties of its own: describe the top-level field.
      const description = (schemaAt(error.schemaPath.replace(/\/required$/, `/properties/${field}`)) ?? schemaAt(`#/properties/${field}`))?.description;
      return { file, line: lineOf(pointer), path, message: `missing field "${field}"`, fix: `add "${field}"${description ? `: ${description}` : ''}` };
    }
    case 'type':
      return { file, line: lineOf(pointer), path, message: `must be ${String(params.type) === 'integer' ? 'an integer' : `a${/^[aeiou]/.test(String(params.type)) ? 'n' : ''} ${String(params.type)}`}`, fix: `write a ${String(params.type)}${describe(error.schemaPath)}` };
    case 'discriminator':
      return { file, line: lineOf(pointer), path, message: `"${String(params.tag)}" is missing or not one of the known kinds`, fix: `set "${String(params.tag)}" to one of the kinds in schema/params.schema.json at ${path}` };
    case 'enum':
      return { file, line: lineOf(pointer), path, message: `must be one of ${JSON.stringify(params.allowedValues)}`, fix: `use one of ${(params.allowedValues as unknown[]).join(', ')}` };
    default:
      return { file, line: lineOf(pointer), path, message: error.message ?? 'is invalid', fix: `see the schema${describe(error.schemaPath) || ` at ${path}`}` };
  }
}

/** `lineOf` maps a JSON pointer (`/virtualService/name`) to its 1-based line in the file. */
export type ParamsResult = { ok: true; params: PipelineParams; lineOf: (pointer: string) => number | undefined } | { ok: false; problems: InputProblem[] };

/** Parses and validates the parameter file's text; every problem at once, each with its line. */
export function parseParams(text: string, file: string): ParamsResult {
  let parsed: ReturnType<typeof parseWithPointers>;
  try {
    parsed = parseWithPointers(text);
  } catch (error) {
    // JSON.parse (under json-source-map) reports "at position N", or nothing at the end of the input.
    const message = (error as Error).message;
    const offset = /position (\d+)/i.exec(message);
    const { line, column } = positionAt(text, offset ? Number(offset[1]) : text.length);
    return {
      ok: false,
      problems: [{ file, line, column, path: '$', message: `not valid JSON: ${message.replace(/ in JSON at position \d+/, '')}`, fix: 'correct the JSON syntax there (no comments, no trailing commas)' }],
    };
  }
  const lineOf = (pointer: string) => {
    const found = parsed.pointers[pointer];
    const position = found?.key ?? found?.value;
    return position ? position.line + 1 : undefined;
  };
  const validate = validator();
  if (validate(parsed.data)) {
    const problems = semanticProblems(parsed.data as PipelineParams, file, lineOf);
    return problems.length ? { ok: false, problems } : { ok: true, params: parsed.data as PipelineParams, lineOf };
  }
  const seen = new Set<string>();
  const problems: InputProblem[] = [];
  for (const error of validate.errors ?? []) {
    // "must match the then schema" only repeats the missing field the `then` error names.
    if (error.keyword === 'if') continue;
    const problem = problemFor(error, file, lineOf);
    const key = `${problem.path}|${problem.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(problem);
    }
  }
  return { ok: false, problems };
}

/**
 * Rules JSON Schema cannot say: weights sum to 100, the canary never gets more than release; every
 * environment has an account and a namespace (its own or the top level's) and a name of its own.
 */
function semanticProblems(params: PipelineParams, file: string, lineOf: (pointer: string) => number | undefined): InputProblem[] {
  const problems: InputProblem[] = [...stepProblems(params.steps, '', file, lineOf), ...judgeProblems(params.judge, '', file, lineOf)];
  const seen = new Map<string, number>();
  (params.environments ?? []).forEach((environment, i) => {
    const pointer = `/environments/${i}`;
    problems.push(...stepProblems(environment.steps, pointer, file, lineOf), ...judgeProblems((environment as { judge?: Judge }).judge, pointer, file, lineOf));
    for (const field of ['account', 'namespace'] as const) {
      if (environment[field] === undefined && params[field] === undefined) {
        problems.push({ file, line: lineOf(pointer), path: pointerToPath(pointer), message: `environment "${environment.name}" has no ${field}`, fix: `add "${field}" to this environment (or a top-level "${field}" for every environment)` });
      }
    }
    const first = seen.get(environment.name);
    if (first !== undefined) {
      problems.push({ file, line: lineOf(`${pointer}/name`), path: pointerToPath(`${pointer}/name`), message: `environment name "${environment.name}" is also used by environments[${first}]`, fix: 'give every environment its own name: it prefixes its stage names, which Orca looks stages up by' });
    } else seen.set(environment.name, i);
  });
  return problems;
}

/**
 * `judge.type: "kayenta"` is refused: a failing Kayenta score could not stop the traffic shift
 * running beside it. In Orca a stage that fails the pipeline ends the execution, and the running
 * shift's task is then completed CANCELED without any cancel call (CompleteExecutionHandler,
 * RunTaskHandler; CANCELED plans no failure stages): the shift keeps its traffic until the
 * service's watch lease gives up, and the cleanup stages after it never run. Facts with sources:
 * spinnaker-facts.json orcaStageContract.
 */
function judgeProblems(judge: Judge | undefined, prefix: string, file: string, lineOf: (pointer: string) => number | undefined): InputProblem[] {
  if (judge?.type !== 'kayenta') return [];
  const pointer = `${prefix}/judge/type`;
  return [
    {
      file,
      line: lineOf(pointer),
      path: pointerToPath(pointer),
      message: 'judge type "kayenta" is not generated: a failing Kayenta score cannot stop the traffic shift running beside it (Orca ends the pipeline without calling the shift\'s cancel; docs/pipelines.md, "No Kayenta judge")',
      fix: 'use "judge": {"type": "analysis"}: the service judges every step and restores the weights at once (its "analysis" block\'s "mode": "fixed" is Kayenta\'s single judgement per window); or "judge": {"type": "none"}',
    },
  ];
}

function stepProblems(steps: StepParams[] | undefined, prefix: string, file: string, lineOf: (pointer: string) => number | undefined): InputProblem[] {
  const problems: InputProblem[] = [];
  (steps ?? []).forEach((step, i) => {
    const sum = step.weights.reduce((a, b) => a + b, 0);
    const pointer = `${prefix}/steps/${i}/weights`;
    if (sum !== 100) {
      problems.push({ file, line: lineOf(pointer), path: pointerToPath(pointer), message: `weights sum to ${sum}, not 100`, fix: 'make release + baseline + canary add up to 100' });
    }
    if (step.weights[1] !== step.weights[2]) {
      problems.push({ file, line: lineOf(pointer), path: pointerToPath(pointer), message: `baseline (${step.weights[1]}) and canary (${step.weights[2]}) get different weights`, fix: 'give baseline and canary the same weight so their metrics compare fairly' });
    }
    if (step.weights[2] > 50) {
      problems.push({ file, line: lineOf(pointer), path: pointerToPath(pointer), message: `canary weight ${step.weights[2]} is above 50`, fix: 'keep the canary at or below 50%: the final step sends everything back to release before the rollout' });
    }
  });
  return problems;
}
