/**
 * The schema of a stored shift record. A record comes from an annotation anyone with edit rights
 * on the VirtualService can change, so before the engine acts on one it must be exactly what the
 * engine itself writes: the spec is re-validated by the same validator as a create (so a record
 * cannot name a route or destination a create could not), and the destination lists a rollback
 * would write must only contain destinations of that spec.
 */
import { isDeepStrictEqual } from 'util';
import {
  FAILURE_REASONS,
  IstioRouteDestination,
  NormalizedShiftSpec,
  ROLLBACK_RESULTS,
  SHIFT_PHASES,
  SPEC_RULES,
  STEP_RESULTS,
  matchesDestination,
  validateShiftSpec,
} from '@istio-shift/core';

// Phases, failure reasons, rollback and judgement results: the wire contract, defined once in core.
export { FAILURE_REASONS, STEP_RESULTS };

const SHIFT_ID = SPEC_RULES.shiftId.pattern;
const PHASES: readonly string[] = SHIFT_PHASES;
const includes = (list: readonly string[], value: unknown) => typeof value === 'string' && list.includes(value);
/** DNS-1123 subdomains: the validator's host rule (route subsets found in the cluster are held to it too). */
const HOST = SPEC_RULES.host.pattern;

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isTime = (v: unknown) => typeof v === 'string' && !Number.isNaN(Date.parse(v));
const isInt = (v: unknown, min: number, max: number) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/**
 * A normalized analysis block as a create body: durations back to strings, per-step timing as
 * per-step overrides, the evidence gate's wait as `extendUpTo`.
 */
function analysisAsCreateBody(analysis: Obj): Obj {
  const { warmupSeconds, intervalSeconds, steps: _steps, evidence, ...rest } = analysis;
  const body: Obj = { ...rest, warmup: String(warmupSeconds), interval: String(intervalSeconds) };
  if (isObject(evidence)) {
    const { extendSeconds, ...settings } = evidence;
    body.evidence = extendSeconds === undefined ? settings : { ...settings, extendUpTo: String(extendSeconds) };
  } else if (evidence !== undefined) body.evidence = evidence;
  return body;
}

/**
 * Analysis fields added after records were first written (sequential testing, the evidence gate).
 * A record written before them has none of them, where the validator fills in defaults: such a
 * record is compared without them (the runner judges it as it was created, see effectiveAnalysis).
 */
const LATER_ANALYSIS_FIELDS = ['mode', 'alpha', 'evidence'];

function inStoredForm(validated: NormalizedShiftSpec, stored: Obj): unknown {
  const analysis = stored.analysis;
  if (!isObject(analysis) || !validated.analysis || !LATER_ANALYSIS_FIELDS.every((field) => !(field in analysis))) return validated;
  const older: Obj = { ...validated.analysis };
  for (const field of LATER_ANALYSIS_FIELDS) delete older[field];
  return { ...validated, analysis: older };
}

/** The spec as a create body, so the create validator can judge it. */
function asCreateBody(spec: Obj): Obj {
  const { steps, abandonAfterSeconds, analysis, ...rest } = spec;
  const body: Obj = { ...rest };
  const timing = isObject(analysis) && Array.isArray(analysis.steps) ? analysis.steps : [];
  if (Array.isArray(steps)) {
    body.steps = steps.map((s, i) => {
      if (!isObject(s)) return s;
      const step: Obj = { weights: s.weights, pause: String(s.pauseSeconds) };
      const own = timing[i];
      if (isObject(own)) step.analysis = { skip: own.analysed !== true, warmup: String(own.warmupSeconds), interval: String(own.intervalSeconds) };
      return step;
    });
  }
  if (analysis !== undefined) body.analysis = isObject(analysis) ? analysisAsCreateBody(analysis) : analysis;
  if (abandonAfterSeconds !== undefined) body.abandonAfter = String(abandonAfterSeconds);
  return body;
}

function specProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'spec is not an object';
  const result = validateShiftSpec(asCreateBody(value));
  if (!result.ok) return `spec is invalid: ${result.problems.map((p) => p.message).join('; ')}`;
  if (!isDeepStrictEqual(inStoredForm(result.spec, value), value)) return 'spec is not in the form the service writes';
  return undefined;
}

function destinationListProblem(field: string, value: unknown): string | undefined {
  if (!Array.isArray(value) || value.length === 0 || value.length > 50) return `${field} must be a non-empty list of route destinations`;
  for (const [i, entry] of value.entries()) {
    const destination = isObject(entry) ? entry.destination : undefined;
    if (!isObject(destination) || typeof destination.host !== 'string' || !HOST.test(destination.host)) return `${field}[${i}] has no valid destination host`;
    if (destination.subset !== undefined && (typeof destination.subset !== 'string' || !HOST.test(destination.subset))) return `${field}[${i}].destination.subset is not a valid subset name`;
    if (destination.port !== undefined && !(isObject(destination.port) && isInt(destination.port.number, 1, 65535))) return `${field}[${i}].destination.port is not a port`;
    if ((entry as Obj).weight !== undefined && !isInt((entry as Obj).weight, 0, 100)) return `${field}[${i}].weight is not a whole number from 0 to 100`;
  }
  return undefined;
}

/**
 * Destinations a step or a rollback may write must be ones the spec names; with pruneUnlisted the
 * route's original destinations (which a rollback puts back) are allowed too.
 */
function unnamedDestination(spec: NormalizedShiftSpec, list: IstioRouteDestination[], original: IstioRouteDestination[]): IstioRouteDestination | undefined {
  const named = (entry: IstioRouteDestination) => spec.destinations.some((d) => matchesDestination(d, entry, spec.namespace));
  const wasThere = (entry: IstioRouteDestination) => spec.pruneUnlisted && original.some((o) => isDeepStrictEqual(o.destination, entry.destination));
  return list.find((entry) => !named(entry) && !wasThere(entry));
}

function fieldsProblem(id: string, r: Obj): string | undefined {
  if (r.id !== id || !SHIFT_ID.test(id)) return 'its id is not the 20-hex-character id the service writes under that key';
  if (typeof r.specHash !== 'string') return 'specHash is missing';
  if (!isObject(r.boundTo) || typeof r.boundTo.namespace !== 'string' || typeof r.boundTo.name !== 'string' || typeof r.boundTo.uid !== 'string') return 'boundTo (namespace, name, uid) is missing';
  if (!includes(PHASES, r.phase)) return `phase must be one of ${PHASES.join(', ')}`;
  for (const field of ['polledAt', 'createdAt', 'updatedAt']) if (!isTime(r[field])) return `${field} is not a time`;
  if (r.finishedAt !== undefined && !isTime(r.finishedAt)) return 'finishedAt is not a time';
  if (r.failure !== undefined && !(isObject(r.failure) && includes(FAILURE_REASONS, r.failure.reason) && typeof r.failure.message === 'string')) return 'failure is malformed';
  if (r.rollback !== undefined && !(isObject(r.rollback) && includes(ROLLBACK_RESULTS, r.rollback.result) && typeof r.rollback.message === 'string')) return 'rollback is malformed';
  return undefined;
}

function progressProblem(r: Obj, spec: NormalizedShiftSpec): string | undefined {
  if (!isInt(r.currentStep, 1, spec.steps.length)) return `currentStep must be a step number from 1 to ${spec.steps.length}`;
  if (!Array.isArray(r.stepTimes) || r.stepTimes.length !== r.currentStep) return 'stepTimes must have one entry per applied step';
  if (!r.stepTimes.every((t) => isObject(t) && [t.appliedAt, t.pauseUntil].every((v) => v === undefined || isTime(v)))) return 'stepTimes holds something other than times';
  if (!Array.isArray(r.originalWeights) || r.originalWeights.length !== spec.destinations.length || !r.originalWeights.every((w) => isInt(w, 0, 100))) return 'originalWeights must hold one weight per destination';
  return undefined;
}

const isScore = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 100;

/**
 * Persisted judgements: one entry per step at most (null for steps not judged), only on steps the
 * spec analyses, and each with the fields the engine acts on (passed decides whether a step moves).
 */
function judgementsProblem(r: Obj, spec: NormalizedShiftSpec): string | undefined {
  if (r.judgements === undefined) return undefined;
  const list = r.judgements;
  if (!Array.isArray(list) || list.length > spec.steps.length) return `judgements must be a list of at most ${spec.steps.length} entries (one per step)`;
  if (!spec.analysis && list.length > 0) return 'judgements are recorded but the spec has no analysis';
  for (const [i, entry] of list.entries()) {
    if (entry === null) continue;
    const field = `judgements[${i}]`;
    if (!spec.analysis?.steps[i]?.analysed) return `${field} judges a step the spec does not analyse`;
    if (!isObject(entry) || !isTime(entry.at) || !isObject(entry.judgement)) return `${field} must be {at, judgement}`;
    const j = entry.judgement;
    if (!isScore(j.score) || !includes(STEP_RESULTS, j.result) || typeof j.passed !== 'boolean' || typeof j.final !== 'boolean') return `${field}.judgement must carry a score from 0 to 100, a result (${STEP_RESULTS.join(', ')}), passed and final`;
    if (!Array.isArray(j.metrics) || !j.metrics.every((m) => isObject(m) && typeof m.name === 'string' && typeof m.classification === 'string' && typeof m.failed === 'boolean')) return `${field}.judgement.metrics must list each metric's name, classification and failed`;
  }
  return undefined;
}

/** A compacted ended record: no lists a rollback or a step would write, only the final weights. */
function compactedProblem(r: Obj, spec: NormalizedShiftSpec): string | undefined {
  if (r.phase === 'RUNNING') return 'a compacted record (endedWeights) must have ended';
  for (const field of ['original', 'lastWritten', 'stepTimes']) if (r[field] !== undefined) return `a compacted record (endedWeights) has no ${field}`;
  if (!isInt(r.currentStep, 1, spec.steps.length)) return `currentStep must be a step number from 1 to ${spec.steps.length}`;
  const weightsOk = (v: unknown) => Array.isArray(v) && v.length === spec.destinations.length && v.every((w) => isInt(w, 0, 100));
  if (!weightsOk(r.endedWeights)) return 'endedWeights must hold one weight from 0 to 100 per destination';
  if (!weightsOk(r.originalWeights)) return 'originalWeights must hold one weight per destination';
  return undefined;
}

/** Why the service must not act on this stored record, or undefined when it is sound. */
export function recordProblem(id: string, value: unknown): string | undefined {
  const problem = checkRecord(id, value);
  return problem === undefined ? undefined : `the stored record of shift ${id} is invalid (${problem}); the service will not act on it: remove it from the annotation, or restore it as the service wrote it`;
}

function checkRecord(id: string, value: unknown): string | undefined {
  if (!isObject(value)) return 'it is not an object';
  const fields = fieldsProblem(id, value);
  if (fields) return fields;
  const specIssue = specProblem(value.spec);
  if (specIssue) return specIssue;
  const spec = value.spec as unknown as NormalizedShiftSpec;
  const binding = value.boundTo as Obj;
  if (binding.namespace !== spec.namespace || binding.name !== spec.virtualService) return 'boundTo does not name the VirtualService of its spec';
  if (value.endedWeights !== undefined) return compactedProblem(value, spec) ?? judgementsProblem(value, spec);
  const progress = progressProblem(value, spec) ?? judgementsProblem(value, spec);
  if (progress) return progress;
  for (const field of ['original', 'lastWritten'] as const) {
    const listIssue = destinationListProblem(field, value[field]);
    if (listIssue) return listIssue;
  }
  const original = value.original as IstioRouteDestination[];
  const stray = unnamedDestination(spec, value.lastWritten as IstioRouteDestination[], original) ?? unnamedDestination(spec, original, original);
  if (stray) return `it would write destination ${stray.destination.host}${stray.destination.subset ? `/${stray.destination.subset}` : ''}, which its spec does not name`;
  return undefined;
}
