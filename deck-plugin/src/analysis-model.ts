/**
 * The analysis part of the editor and of the execution view, free of React and of
 * @spinnaker/core: the reference preset with scopes taken from the destinations, adding and
 * removing metric rows, the shared validator's `analysis.*` problems in the form's words
 * ("Metric 2, threshold max"). The execution view's model is execution/analysis-view.ts.
 */
import {
  BUILT_IN_METRICS,
  DEFAULT_DIRECTION,
  ERRORS_JUDGE_DEFAULTS,
  FAIL_DIRECTIONS,
  checkPromql,
  defaultJudge,
  isExpression,
  parseDurationSeconds,
  referenceAnalysis,
  validateShiftSpec,
} from '@istio-shift/core';
import { problemText } from './formLanguage';
import type {
  BuiltInMetric,
  FailDirection,
  Problem,
  WorkloadScope,
} from '@istio-shift/core';
import type { DestinationDraft, PayloadDraft } from './model';
import { crossFieldText, isPauseTimingProblem } from './crossField';

/** The analysis block as the form holds it: the spec's shape, with numbers possibly still text. */
export interface MetricDraft {
  name: string;
  metric: BuiltInMetric | 'custom';
  query?: string;
  group?: string;
  direction?: string;
  critical?: boolean;
  nodata?: string;
  judge: { type: string; [bound: string]: unknown };
  /** Deprecated and ignored by the service; the form has no input for it and leaves a stored value as it is. */
  failAfterSamples?: unknown;
}

/** `analysis.evidence` as the form holds it. */
export interface EvidenceDraft {
  minRequests?: unknown;
  minTrafficShare?: unknown;
  minPoints?: unknown;
  extendUpTo?: unknown;
  onInsufficient?: unknown;
}

export interface AnalysisDraft {
  source: string;
  scopes: { canary: WorkloadScope; baseline: WorkloadScope };
  warmup?: string;
  interval?: string;
  metrics: MetricDraft[];
  groups?: Record<string, unknown>;
  thresholds?: { pass?: unknown; marginal?: unknown };
  onFailure?: string;
  mode?: string;
  alpha?: unknown;
  evidence?: EvidenceDraft;
}

const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export const METRIC_KINDS: ReadonlyArray<BuiltInMetric | 'custom'> = [...BUILT_IN_METRICS, 'custom'];

/** What the metric dropdown says for each kind. */
export const METRIC_LABELS: Readonly<Record<BuiltInMetric | 'custom', string>> = {
  'success-rate': 'Success rate (non-5xx %)',
  'latency-p50': 'Latency p50 (ms)',
  'latency-p95': 'Latency p95 (ms)',
  'latency-p99': 'Latency p99 (ms)',
  cpu: 'CPU (cores per pod)',
  memory: 'Memory (bytes per pod)',
  restarts: 'Container restarts',
  readiness: 'Ready pods (%)',
  'oom-killed': 'OOM-killed containers',
  custom: 'Custom PromQL query',
};

export type JudgeType = 'statistical' | 'threshold' | 'errors';
export const JUDGE_TYPES: readonly JudgeType[] = ['statistical', 'threshold', 'errors'];

/** A bound's key in the form's words: maxRatio -> "max ratio". */
const words = (key: string) => key.replace(/[A-Z]/g, (letter) => ` ${letter.toLowerCase()}`);
const THRESHOLD_BOUNDS = ['min', 'max', 'minRatio', 'maxRatio', 'maxIncrease', 'maxDecrease'];
const STATISTICAL_BOUNDS = ['allowedIncrease', 'allowedDecrease'];
const ERRORS_BOUNDS = ['maxRatio', 'maxIncrease'] as const;

export interface BoundInput {
  key: string;
  label: string;
  placeholder?: string;
}
const boundInputs = (keys: readonly string[], defaults: Record<string, number> = {}): BoundInput[] =>
  keys.map((key) => ({ key, label: words(key), placeholder: key in defaults ? String(defaults[key]) : undefined }));

/** The bounds each judge type takes, with their labels in the form (and the service's default as placeholder). */
export const JUDGE_BOUNDS: Readonly<Record<JudgeType, readonly BoundInput[]>> = {
  threshold: boundInputs(THRESHOLD_BOUNDS),
  statistical: boundInputs(STATISTICAL_BOUNDS),
  errors: boundInputs(ERRORS_BOUNDS, ERRORS_JUDGE_DEFAULTS as unknown as Record<string, number>),
};

/**
 * The judge types a metric row offers: the error-count judge reads request and 5xx totals, which only
 * success-rate has; a row that already has it elsewhere keeps it on offer (the validator says why it is wrong).
 */
export function judgeTypesFor(metric: Pick<MetricDraft, 'metric' | 'judge'>): JudgeType[] {
  return JUDGE_TYPES.filter((type) => type !== 'errors' || metric.metric === 'success-rate' || (metric.judge && metric.judge.type) === 'errors');
}

/** The judge type a row shows: its own when known, else statistical. */
export function judgeTypeOf(judge: MetricDraft['judge'] | undefined): JudgeType {
  return (JUDGE_TYPES as readonly unknown[]).includes(judge && judge.type) ? (judge!.type as JudgeType) : 'statistical';
}

// ---------------------------------------------------------------------------------------------
// Scopes from the destinations
// ---------------------------------------------------------------------------------------------

const named = (d: DestinationDraft, word: string) => [d.subset, d.label].some((v) => typeof v === 'string' && v.toLowerCase() === word);

/**
 * The workload a destination's pods belong to, by the usual naming of one Deployment per subset:
 * `<host>-<subset>` (checkout + canary -> checkout-canary), or the host alone without a subset.
 * The host is cut to its first DNS label (checkout.shop.svc.cluster.local -> checkout). SpEL
 * gives no default: the analysis block takes no expressions.
 */
export function workloadOf(destination: DestinationDraft | undefined): string {
  const { host: full, subset } = destination || ({} as DestinationDraft);
  if (typeof full !== 'string' || full === '' || full.includes('${') || isExpression(subset)) return '';
  const host = full.split('.')[0];
  return subset ? `${host}-${subset}` : host;
}

/**
 * Default scopes: the canary is the destination whose subset (or label) is "canary", else the last
 * one; the baseline the one named "baseline", else the first one that is not the canary.
 */
export function defaultScopes(payload: Pick<PayloadDraft, 'destinations'>): { canary: WorkloadScope; baseline: WorkloadScope } {
  const destinations = Array.isArray(payload.destinations) ? payload.destinations : [];
  const canaryAt = destinations.findIndex((d) => named(d, 'canary'));
  const canary = canaryAt >= 0 ? canaryAt : destinations.length - 1;
  const baselineAt = destinations.findIndex((d, i) => i !== canary && named(d, 'baseline'));
  const baseline = baselineAt >= 0 ? baselineAt : destinations.findIndex((_, i) => i !== canary);
  return { canary: { workload: workloadOf(destinations[canary]) }, baseline: { workload: workloadOf(destinations[baseline]) } };
}

// ---------------------------------------------------------------------------------------------
// Operations of the section's buttons
// ---------------------------------------------------------------------------------------------

export function analysisOf(payload: PayloadDraft): AnalysisDraft | undefined {
  const analysis = payload.analysis;
  return analysis && typeof analysis === 'object' && !Array.isArray(analysis) ? (analysis as AnalysisDraft) : undefined;
}

/**
 * The reference preset (Istio 60 / Kubernetes 40, pass 75, marginal 50, 1m warm-up). A source or
 * workloads the author already typed are kept; empty ones come from the destinations.
 */
export function applyReferencePreset(payload: PayloadDraft): PayloadDraft {
  const current = analysisOf(payload);
  const defaults = defaultScopes(payload);
  const scopes = current && current.scopes;
  const keep = (scope: WorkloadScope | undefined, fallback: WorkloadScope) => (scope && scope.workload ? scope : fallback);
  const preset = referenceAnalysis({
    source: (current && current.source) || undefined,
    canary: keep(scopes && scopes.canary, defaults.canary),
    baseline: keep(scopes && scopes.baseline, defaults.baseline),
  });
  return { ...copy(payload), analysis: preset };
}

/** Turns analysis off: the block and every step's override go (the validator rejects orphans). */
export function removeAnalysis(payload: PayloadDraft): PayloadDraft {
  const next = copy(payload);
  delete next.analysis;
  (next.steps || []).forEach((step) => delete step.analysis);
  return next;
}

function withAnalysis(payload: PayloadDraft, change: (analysis: AnalysisDraft) => void): PayloadDraft {
  const next = copy(payload);
  const analysis = analysisOf(next);
  if (analysis) change(analysis);
  return next;
}

function uniqueName(base: string, taken: string[]): string {
  if (!taken.includes(base)) return base;
  for (let i = 2; ; i++) if (!taken.includes(`${base}-${i}`)) return `${base}-${i}`;
}

/** A new metric row: the first built-in the analysis lacks (else a custom query), with its default judge. */
export function newMetric(existing: MetricDraft[]): MetricDraft {
  const used = existing.map((m) => m.metric);
  const kind = BUILT_IN_METRICS.find((m) => !used.includes(m)) || 'custom';
  const metric: MetricDraft = { name: uniqueName(kind, existing.map((m) => m.name)), metric: kind, judge: { ...defaultJudge(kind) } };
  if (kind === 'custom') metric.query = '';
  return metric;
}

export function addMetric(payload: PayloadDraft): PayloadDraft {
  return withAnalysis(payload, (analysis) => {
    analysis.metrics = Array.isArray(analysis.metrics) ? analysis.metrics : [];
    analysis.metrics.push(newMetric(analysis.metrics));
  });
}

/** Removes metric `index`, and the weight of a group that no metric is in any more. */
export function removeMetric(payload: PayloadDraft, index: number): PayloadDraft {
  return withAnalysis(payload, (analysis) => {
    const [removed] = analysis.metrics.splice(index, 1);
    const group = removed && removed.group;
    if (group && analysis.groups && !analysis.metrics.some((m) => m.group === group)) delete analysis.groups[group];
  });
}

/**
 * A metric row after its dropdown changed: the default judge of the new kind, a query only for
 * custom, and the name follows the kind while the author had not renamed it.
 */
export function changeMetricKind(metric: MetricDraft, kind: BuiltInMetric | 'custom', taken: string[]): MetricDraft {
  const next: MetricDraft = { ...copy(metric), metric: kind, judge: { ...defaultJudge(kind) } };
  delete next.direction;
  if (kind === 'custom') next.query = next.query || '';
  else delete next.query;
  if (!metric.name || metric.name === metric.metric) next.name = uniqueName(kind, taken.filter((n) => n !== metric.name));
  return next;
}

export function changeJudgeType(judge: MetricDraft['judge'], type: JudgeType): MetricDraft['judge'] {
  return (judge && judge.type) === type ? judge : { type };
}

/** The direction a metric row fails on: its own, else its kind's default (core's DEFAULT_DIRECTION). */
export function directionOf(metric: Pick<MetricDraft, 'metric' | 'direction'>): FailDirection {
  return (FAIL_DIRECTIONS as readonly unknown[]).includes(metric.direction) ? (metric.direction as FailDirection) : DEFAULT_DIRECTION[metric.metric] || 'either';
}

/**
 * A metric row after its direction changed. A statistical judge loses the allowed change the new
 * direction cannot use (the validator rejects it: "has no effect with direction ..."), as Kayenta's
 * metric editor shows only the allowed change of its "Fail on" (deck-kayenta editMetricEffectSizes.tsx).
 */
export function changeDirection(metric: MetricDraft, direction: FailDirection): MetricDraft {
  const next: MetricDraft = { ...copy(metric), direction };
  if (next.judge && next.judge.type === 'statistical') {
    if (direction === 'decrease') delete next.judge.allowedIncrease;
    if (direction === 'increase') delete next.judge.allowedDecrease;
  }
  return next;
}

const hasValue = (value: unknown) => value !== undefined && value !== null && value !== '';

/**
 * The bound inputs a metric row shows, so a row stays one line: every bound with a value, the ones the
 * author just added (`added`), and for a statistical judge the allowed change its direction uses; an
 * errors judge shows both of its bounds. Other threshold bounds are offered by the row's "+ bound" list.
 */
export function shownBounds(metric: Pick<MetricDraft, 'metric' | 'direction' | 'judge'>, added: readonly string[] = []): BoundInput[] {
  const type = judgeTypeOf(metric.judge);
  const direction = directionOf(metric);
  const wanted = (key: string) =>
    type === 'errors' ||
    hasValue(metric.judge && metric.judge[key]) ||
    (type === 'threshold' && added.includes(key)) ||
    (type === 'statistical' && (key === 'allowedIncrease' ? direction !== 'decrease' : direction !== 'increase'));
  return JUDGE_BOUNDS[type].filter((bound) => wanted(bound.key));
}

/** What the as-you-type PromQL check says about a custom query, in the form's words ("Metric 8, query, column 5: ..."). */
export function queryCheckMessages(index: number, query: unknown): string[] {
  if (typeof query !== 'string') return [];
  const field = fieldLabel(`analysis.metrics[${index}].query`);
  return checkPromql(query).map((p) => `${field}, ${p.line > 1 ? `line ${p.line}, ` : ''}column ${p.column}: ${p.message}`);
}

/** Groups the metrics use, in order of first use, for the weight inputs. */
export function usedGroups(analysis: AnalysisDraft): string[] {
  const groups: string[] = [];
  for (const metric of analysis.metrics || []) {
    const group = metric.group || (metric.metric === 'custom' ? 'custom' : ['success-rate', 'latency-p50', 'latency-p95', 'latency-p99'].includes(metric.metric) ? 'istio' : 'kubernetes');
    if (!groups.includes(group)) groups.push(group);
  }
  return groups;
}

/** A typed number: a number when it is one (decimals too), undefined when empty, else the text (the validator says why). */
export function parseDecimal(text: string): number | string | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  return /^-?\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : text;
}

/**
 * A scope's pod selector as the form writes it, `app=checkout,track=canary`, and back. Empty text is
 * no selector (the service then uses the labels the workload's Deployment selects its pods with).
 * Text that is not `key=value` pairs is kept as it is, so the shared validator says what is wrong.
 */
export function parsePodSelector(text: string): Record<string, string> | string | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const pairs = trimmed.split(',').map((part) => part.trim()).filter((part) => part !== '');
  if (pairs.length === 0 || pairs.some((pair) => pair.split('=').length !== 2)) return text;
  const selector: Record<string, string> = {};
  for (const pair of pairs) {
    const [key, value] = pair.split('=').map((side) => side.trim());
    selector[key] = value;
  }
  return selector;
}

export function formatPodSelector(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value as Record<string, unknown>)
      .map(([key, label]) => `${key}=${String(label)}`)
      .join(',');
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Whether step `index` is analysed, and why not. */
export function stepAnalysisState(step: PayloadDraft['steps'][number]): 'no-pause' | 'skipped' | 'analysed' {
  const pause = step && step.pause;
  if (pause === undefined || pause === '' || (!isExpression(pause) && parseDurationSeconds(pause) === 0)) return 'no-pause';
  const own = step.analysis as { skip?: unknown } | undefined;
  return own && (own.skip === true || own.skip === 'true') ? 'skipped' : 'analysed';
}

export function setStepSkip(payload: PayloadDraft, index: number, skip: boolean): PayloadDraft {
  const next = copy(payload);
  const step = next.steps[index];
  const own = { ...((step.analysis as Record<string, unknown> | undefined) || {}) };
  if (skip) own.skip = true;
  else delete own.skip;
  if (Object.keys(own).length > 0) step.analysis = own;
  else delete step.analysis;
  return next;
}

// ---------------------------------------------------------------------------------------------
// Validator problems in the form's words
// ---------------------------------------------------------------------------------------------

/** A judge's field in the form's words: "threshold max ratio", or "errors max ratio" for an error-count judge. */
function boundLabel(bound: string, judgeType: unknown): string {
  if (bound === 'type') return 'judge type';
  if (judgeType === 'errors' && (ERRORS_BOUNDS as readonly string[]).includes(bound)) return `errors ${words(bound)}`;
  if (THRESHOLD_BOUNDS.includes(bound)) return `threshold ${words(bound)}`;
  return STATISTICAL_BOUNDS.includes(bound) ? words(bound) : bound;
}

/** A metric's fields whose words are not their key. */
const METRIC_FIELD_LABELS: Record<string, string> = {
  nodata: 'no-data policy',
  failAfterSamples: 'fail after samples (deprecated, ignored)',
};

const TOP_LABELS: Record<string, string> = {
  analysis: 'Analysis',
  'analysis.source': 'Metrics source',
  'analysis.scopes': 'Scopes',
  'analysis.warmup': 'Warm-up',
  'analysis.interval': 'Interval',
  'analysis.metrics': 'Metrics',
  'analysis.groups': 'Group weights',
  'analysis.thresholds': 'Score thresholds',
  'analysis.thresholds.pass': 'Pass score',
  'analysis.thresholds.marginal': 'Marginal score',
  'analysis.onFailure': 'On failure',
  'analysis.mode': 'Mode',
  'analysis.alpha': 'Alpha',
  'analysis.evidence': 'Evidence',
  'analysis.evidence.minRequests': 'Minimum canary requests',
  'analysis.evidence.minTrafficShare': 'Minimum canary traffic share',
  'analysis.evidence.minPoints': 'Minimum points per metric',
  'analysis.evidence.extendUpTo': 'Wait for evidence up to',
  'analysis.evidence.onInsufficient': 'On too little evidence',
};

/** The judge type of metric `index` in a payload, when it has one. */
function judgeTypeAt(payload: unknown, index: number): unknown {
  try {
    return (payload as { analysis: { metrics: Array<{ judge: { type: unknown } }> } }).analysis.metrics[index].judge.type;
  } catch {
    return undefined; // a payload without that metric or judge (optional chaining would cost more bytes in ES2019)
  }
}

/**
 * A validator field path in the form's words: `analysis.metrics[1].judge.max` -> "Metric 2, threshold max".
 * With the payload, the bounds of an error-count judge read "errors max ratio" (else "threshold max ratio").
 */
export function fieldLabel(field: string, payload?: unknown): string {
  if (TOP_LABELS[field]) return TOP_LABELS[field];
  const metric = /^analysis\.metrics\[(\d+)\](?:\.(\w+))?(?:\.(\w+))?/.exec(field);
  if (metric) {
    const [, index, key, bound] = metric;
    const row = `Metric ${Number(index) + 1}`;
    if (!key) return row;
    if (key === 'judge' && bound) return `${row}, ${boundLabel(bound, judgeTypeAt(payload, Number(index)))}`;
    return `${row}, ${METRIC_FIELD_LABELS[key] || key}`;
  }
  const group = /^analysis\.groups\.(.+)$/.exec(field);
  if (group) return `Weight of group ${group[1]}`;
  // A scope and its fields ("Canary scope", "Baseline pod selector"), and one label of a pod selector.
  const scope = /^analysis\.scopes\.(canary|baseline)(\.workload|\.namespace|\.podSelector(\..+)?)?$/.exec(field);
  if (scope) {
    const [, which, key, label] = scope;
    return `${which === 'canary' ? 'Canary' : 'Baseline'} ${key ? words(key.split('.')[1]) : 'scope'}${label ? ` label ${label.slice(1)}` : ''}`;
  }
  const step = /^steps\[(\d+)\]\.analysis(?:\.(\w+))?$/.exec(field);
  if (step) {
    const [, index, key] = step;
    const words: Record<string, string> = { skip: 'skip analysis', warmup: 'analysis warm-up', interval: 'analysis interval' };
    return `Step ${Number(index) + 1}${key ? `, ${words[key] || `analysis ${key}`}` : ' analysis'}`;
  }
  // A field the form has no words for (e.g. an unknown key): its parent's label, then its own name.
  const child = /^((?:steps\[\d+\]\.)?analysis.*)\.([^.]+)$/.exec(field);
  if (child) return `${fieldLabel(child[1], payload)}, ${child[2]}`;
  return field;
}

/**
 * A field path of the analysis block inside a message: `analysis.` or `analysis[` followed by more,
 * or a step's `steps[1].analysis...`. The bare word "analysis" is prose and stays as it is.
 */
const ANALYSIS_PATH = /\b(?:steps\[\d+\]\.analysis(?:\.[A-Za-z0-9_-]+|\[\d+\])*|analysis(?:\.[A-Za-z0-9_-]+|\[\d+\])+)/g;

/** The problem's message with every analysis field path in it put in the form's words. */
export function formMessage(message: string, payload?: unknown): string {
  return message.replace(ANALYSIS_PATH, (token) => fieldLabel(token, payload));
}

export interface AnalysisProblem {
  /** The validator's field, e.g. `analysis.metrics[1].judge.max`. */
  field: string;
  /** Where the section shows it: an input's field, a metric row, a step, or the section itself. */
  place: string;
  label: string;
  message: string;
}

/** Fields the section has an input for; problems elsewhere go to their row, or to the section. */
const INPUT_FIELDS = [
  /^analysis\.(source|warmup|interval|onFailure|mode|alpha)$/,
  /^analysis\.evidence\.(minRequests|minTrafficShare|minPoints|extendUpTo|onInsufficient)$/,
  /^analysis\.scopes\.(canary|baseline)\.(workload|namespace|podSelector)$/,
  /^analysis\.thresholds\.(pass|marginal)$/,
  /^analysis\.groups\.[^.]+$/,
  /^analysis\.metrics\[\d+\]\.(name|metric|query|group|critical|nodata|judge)$/,
  /^analysis\.metrics\[\d+\]\.judge\.(min|max|minRatio|maxRatio|maxIncrease|maxDecrease|allowedIncrease|allowedDecrease|type)$/,
  /^steps\[\d+\]\.analysis$/,
];

export function placeOf(field: string): string {
  if (INPUT_FIELDS.some((pattern) => pattern.test(field))) return field;
  // A problem with one label of a pod selector belongs to the selector's input.
  const selector = /^analysis\.scopes\.(canary|baseline)\.podSelector\./.exec(field);
  if (selector) return `analysis.scopes.${selector[1]}.podSelector`;
  const metric = /^analysis\.metrics\[\d+\]/.exec(field);
  if (metric) return metric[0];
  const step = /^steps\[\d+\]\.analysis/.exec(field);
  if (step) return step[0];
  return 'analysis';
}

/** Problems that belong to the analysis section (the rest of the form shows its own). */
export function isAnalysisField(field: string): boolean {
  return /^analysis(\.|\[|$)/.test(field) || /^steps\[\d+\]\.analysis/.test(field);
}

/** Problems whose API wording describes the JSON, where the form's input takes another notation. */
export function inputWords(problem: Problem): string | undefined {
  const selector = /^analysis\.scopes\.(canary|baseline)\.podSelector$/.exec(problem.field);
  if (selector && /must be an object/.test(problem.message)) {
    return `${selector[1] === 'canary' ? 'Canary' : 'Baseline'} pod labels must be key=value pairs separated by commas, such as app=checkout, track=canary`;
  }
  return undefined;
}

export function toAnalysisProblems(problems: Problem[], payload?: unknown): AnalysisProblem[] {
  // A step's pause against the analysis timing is also shown under the warm-up the author can change
  // (the text is the one the step's pause and Deck's stage warnings show); a step's own warm-up (JSON only) under that step.
  const timing = problems.flatMap((problem): AnalysisProblem[] => {
    const message = isPauseTimingProblem(problem) ? crossFieldText(problem, payload) : undefined;
    if (message === undefined) return [];
    const step = /^steps\[\d+\]/.exec(problem.field)![0];
    const own = /^steps\[(\d+)\]/.exec(problem.field)![1];
    const { steps } = (payload || {}) as { steps?: Array<{ analysis?: { warmup?: unknown; interval?: unknown } }> };
    const ownStep = steps && steps[Number(own)];
    const override = ownStep && ownStep.analysis;
    const place = override && (override.warmup !== undefined || override.interval !== undefined) ? `${step}.analysis` : 'analysis.warmup';
    return [{ field: problem.field, place, label: fieldLabel(problem.field, payload), message }];
  });
  return problems
    .filter((problem) => isAnalysisField(problem.field) || (problem.field === 'steps' && /analysis/.test(problem.message)))
    .map((problem) => ({
      field: problem.field,
      place: problem.field === 'steps' ? 'analysis' : placeOf(problem.field),
      label: fieldLabel(problem.field, payload),
      // Common checks are worded from their code (formLanguage.ts); the block's own rules keep their
      // message, its paths in the form's words.
      message: inputWords(problem) || (problem.code !== undefined && problem.code !== 'analysis' ? problemText(problem, payload) : formMessage(problem.message, payload)),
    }))
    .concat(timing);
}

/** The shared validator's verdict on the payload, as the section shows it (SpEL allowed, as in the stage's validateFn). */
export function analysisProblems(payload: unknown): AnalysisProblem[] {
  return toAnalysisProblems(validateShiftSpec(payload, { allowExpressions: true }).problems, payload);
}
