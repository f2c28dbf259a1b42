/**
 * The analysis part of the editor and of the execution view, free of React and of
 * @spinnaker/core: the reference preset with scopes taken from the destinations, adding and
 * removing metric rows, the shared validator's `analysis.*` problems in the form's words
 * ("Metric 2, threshold max"), and the judgement table rows built from the service's status body.
 */
import {
  BUILT_IN_METRICS,
  defaultJudge,
  describeJudgement,
  isExpression,
  parseDurationSeconds,
  referenceAnalysis,
  validateShiftSpec,
} from '@istio-shift/core';
import type {
  BuiltInMetric,
  Classification,
  MetricJudgement,
  Problem,
  ShiftStatus,
  StepResult,
  StepJudgement,
  StepRecord,
  WorkloadScope,
} from '@istio-shift/core';
import type { DestinationDraft, PayloadDraft } from './model';

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
  failAfterSamples?: unknown;
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

/** The bounds each judge type takes, with their labels in the form. */
export const JUDGE_BOUNDS = {
  threshold: [
    { key: 'min', label: 'min' },
    { key: 'max', label: 'max' },
    { key: 'minRatio', label: 'min ratio' },
    { key: 'maxRatio', label: 'max ratio' },
  ],
  statistical: [
    { key: 'allowedIncrease', label: 'allowed increase' },
    { key: 'allowedDecrease', label: 'allowed decrease' },
  ],
} as const;

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
  const full: unknown = destination?.host;
  if (typeof full !== 'string' || full === '' || full.includes('${') || isExpression(destination?.subset)) return '';
  const host = full.split('.')[0];
  return destination?.subset ? `${host}-${destination.subset}` : host;
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
  const keep = (scope: WorkloadScope | undefined, fallback: WorkloadScope) => (scope && scope.workload ? scope : fallback);
  const preset = referenceAnalysis({
    source: current?.source || undefined,
    canary: keep(current?.scopes?.canary, defaults.canary),
    baseline: keep(current?.scopes?.baseline, defaults.baseline),
  });
  return { ...copy(payload), analysis: preset };
}

/** Turns analysis off: the block and every step's override go (the validator rejects orphans). */
export function removeAnalysis(payload: PayloadDraft): PayloadDraft {
  const next = copy(payload);
  delete next.analysis;
  (next.steps ?? []).forEach((step) => delete step.analysis);
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
  const kind = BUILT_IN_METRICS.find((m) => !used.includes(m)) ?? 'custom';
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
    const group = removed?.group;
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
  if (kind === 'custom') next.query = next.query ?? '';
  else delete next.query;
  if (!metric.name || metric.name === metric.metric) next.name = uniqueName(kind, taken.filter((n) => n !== metric.name));
  return next;
}

export function changeJudgeType(judge: MetricDraft['judge'], type: 'threshold' | 'statistical'): MetricDraft['judge'] {
  return judge?.type === type ? judge : { type };
}

/** Groups the metrics use, in order of first use, for the weight inputs. */
export function usedGroups(analysis: AnalysisDraft): string[] {
  const groups: string[] = [];
  for (const metric of analysis.metrics ?? []) {
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
  const pause = step?.pause;
  if (pause === undefined || pause === '' || (!isExpression(pause) && parseDurationSeconds(pause) === 0)) return 'no-pause';
  const own = step.analysis as { skip?: unknown } | undefined;
  return own && (own.skip === true || own.skip === 'true') ? 'skipped' : 'analysed';
}

export function setStepSkip(payload: PayloadDraft, index: number, skip: boolean): PayloadDraft {
  const next = copy(payload);
  const step = next.steps[index];
  const own = { ...((step.analysis as Record<string, unknown> | undefined) ?? {}) };
  if (skip) own.skip = true;
  else delete own.skip;
  if (Object.keys(own).length > 0) step.analysis = own;
  else delete step.analysis;
  return next;
}

// ---------------------------------------------------------------------------------------------
// Validator problems in the form's words
// ---------------------------------------------------------------------------------------------

const BOUND_LABELS: Record<string, string> = {
  min: 'threshold min',
  max: 'threshold max',
  minRatio: 'threshold min ratio',
  maxRatio: 'threshold max ratio',
  allowedIncrease: 'allowed increase',
  allowedDecrease: 'allowed decrease',
  type: 'judge type',
};

const METRIC_FIELD_LABELS: Record<string, string> = {
  name: 'name',
  metric: 'metric',
  query: 'query',
  group: 'group',
  direction: 'direction',
  critical: 'critical',
  nodata: 'no-data policy',
  judge: 'judge',
  failAfterSamples: 'fail after samples',
};

const TOP_LABELS: Record<string, string> = {
  analysis: 'Analysis',
  'analysis.source': 'Metrics source',
  'analysis.scopes': 'Scopes',
  'analysis.scopes.canary': 'Canary scope',
  'analysis.scopes.baseline': 'Baseline scope',
  'analysis.scopes.canary.workload': 'Canary workload',
  'analysis.scopes.baseline.workload': 'Baseline workload',
  'analysis.scopes.canary.namespace': 'Canary namespace',
  'analysis.scopes.baseline.namespace': 'Baseline namespace',
  'analysis.scopes.canary.podSelector': 'Canary pod selector',
  'analysis.scopes.baseline.podSelector': 'Baseline pod selector',
  'analysis.warmup': 'Warm-up',
  'analysis.interval': 'Interval',
  'analysis.metrics': 'Metrics',
  'analysis.groups': 'Group weights',
  'analysis.thresholds': 'Score thresholds',
  'analysis.thresholds.pass': 'Pass score',
  'analysis.thresholds.marginal': 'Marginal score',
  'analysis.onFailure': 'On failure',
};

/** A validator field path in the form's words: `analysis.metrics[1].judge.max` -> "Metric 2, threshold max". */
export function fieldLabel(field: string): string {
  if (TOP_LABELS[field]) return TOP_LABELS[field];
  const metric = /^analysis\.metrics\[(\d+)\](?:\.(\w+))?(?:\.(\w+))?/.exec(field);
  if (metric) {
    const [, index, key, bound] = metric;
    const row = `Metric ${Number(index) + 1}`;
    if (!key) return row;
    if (key === 'judge' && bound) return `${row}, ${BOUND_LABELS[bound] ?? bound}`;
    return `${row}, ${METRIC_FIELD_LABELS[key] ?? key}`;
  }
  const group = /^analysis\.groups\.(.+)$/.exec(field);
  if (group) return `Weight of group ${group[1]}`;
  const selector = /^analysis\.scopes\.(canary|baseline)\.podSelector\.(.+)$/.exec(field);
  if (selector) return `${selector[1] === 'canary' ? 'Canary' : 'Baseline'} pod selector label ${selector[2]}`;
  const step = /^steps\[(\d+)\]\.analysis(?:\.(\w+))?$/.exec(field);
  if (step) {
    const [, index, key] = step;
    const words: Record<string, string> = { skip: 'skip analysis', warmup: 'analysis warm-up', interval: 'analysis interval' };
    return `Step ${Number(index) + 1}${key ? `, ${words[key] ?? `analysis ${key}`}` : ' analysis'}`;
  }
  // A field the form has no words for (e.g. an unknown key): its parent's label, then its own name.
  const child = /^((?:steps\[\d+\]\.)?analysis.*)\.([^.]+)$/.exec(field);
  if (child) return `${fieldLabel(child[1])}, ${child[2]}`;
  return field;
}

/**
 * A field path of the analysis block inside a message: `analysis.` or `analysis[` followed by more,
 * or a step's `steps[1].analysis...`. The bare word "analysis" is prose and stays as it is.
 */
const ANALYSIS_PATH = /\b(?:steps\[\d+\]\.analysis(?:\.[A-Za-z0-9_-]+|\[\d+\])*|analysis(?:\.[A-Za-z0-9_-]+|\[\d+\])+)/g;

/** The problem's message with every analysis field path in it put in the form's words. */
export function formMessage(message: string): string {
  return message.replace(ANALYSIS_PATH, (token) => fieldLabel(token));
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
  /^analysis\.(source|warmup|interval|onFailure)$/,
  /^analysis\.scopes\.(canary|baseline)\.(workload|namespace|podSelector)$/,
  /^analysis\.thresholds\.(pass|marginal)$/,
  /^analysis\.groups\.[^.]+$/,
  /^analysis\.metrics\[\d+\]\.(name|metric|query|group|critical|nodata|judge)$/,
  /^analysis\.metrics\[\d+\]\.judge\.(min|max|minRatio|maxRatio|allowedIncrease|allowedDecrease|type)$/,
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

export function toAnalysisProblems(problems: Problem[]): AnalysisProblem[] {
  return problems
    .filter((problem) => isAnalysisField(problem.field) || (problem.field === 'steps' && /analysis/.test(problem.message)))
    .map((problem) => ({ field: problem.field, place: problem.field === 'steps' ? 'analysis' : placeOf(problem.field), label: fieldLabel(problem.field), message: formMessage(problem.message) }));
}

/** The shared validator's verdict on the payload, as the section shows it (SpEL allowed, as in the stage's validateFn). */
export function analysisProblems(payload: unknown): AnalysisProblem[] {
  return toAnalysisProblems(validateShiftSpec(payload, { allowExpressions: true }).problems);
}

// ---------------------------------------------------------------------------------------------
// The execution view: judgement rows from the status body
// ---------------------------------------------------------------------------------------------

/** The status body (core's ShiftStatus carries each step's judgement and the running score). */
export type AnalysedStepRecord = StepRecord;
export type AnalysedStatus = ShiftStatus;

export const ANALYSIS_FAILED = 'ANALYSIS_FAILED';
/** The failure reasons the analysis part of the view explains (the judgement failed, or could not be made). */
export const ANALYSIS_FAILURES = [ANALYSIS_FAILED, 'ANALYSIS_UNAVAILABLE'];

export interface JudgementRow {
  name: string;
  metric: string;
  group: string;
  critical: boolean;
  canary: string;
  baseline: string;
  change: string;
  classification: Classification;
  failed: boolean;
  /** The score of the metric's group in this step. */
  groupScore: string;
  reason: string;
}

export interface StepJudgementView {
  step: number;
  judgement: StepJudgement;
  summary: string;
  rows: JudgementRow[];
}

export interface AnalysisView {
  overall?: { score: number; result: StepResult };
  steps: StepJudgementView[];
  /** The failure message when analysis failed the shift (what happened to traffic is in it). */
  failure?: string;
  /** ANALYSIS_FAILED or ANALYSIS_UNAVAILABLE, with failure. */
  failureReason?: string;
}

/**
 * A number from a stored judgement, or null. Judgements are plain JSON written by the service (and by
 * older versions of it): a summary may be `{"count": 0}` without a mean, a ratio may be missing.
 */
export function finite(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function round(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  return String(Number(value.toPrecision(3)));
}

/** A metric's value with its unit, as the table shows it. */
export function formatValue(metric: string, raw: unknown): string {
  const value = finite(raw);
  if (value === null) return 'no data';
  switch (metric) {
    case 'success-rate':
    case 'readiness':
      return `${round(value)}%`;
    case 'latency-p50':
    case 'latency-p95':
    case 'latency-p99':
      return `${round(value)} ms`;
    case 'cpu':
      return `${round(value)} cores`;
    case 'memory':
      return `${round(value / 1048576)} MiB`;
    default:
      return round(value);
  }
}

function change(raw: unknown): string {
  const ratio = finite(raw);
  if (ratio === null) return '—';
  const pct = (ratio - 1) * 100;
  const digits = Math.abs(pct) < 10 ? pct.toFixed(1) : pct.toFixed(0);
  // -0.04% rounds to "-0.0": no change is shown unsigned.
  if (Number(digits) === 0) return `${Math.abs(Number(digits)).toFixed(Math.abs(pct) < 10 ? 1 : 0)}%`;
  return `${pct > 0 ? '+' : ''}${digits}%`;
}

export function judgementRows(judgement: StepJudgement): JudgementRow[] {
  const groups = new Map(judgement.groups.map((g) => [g.name, g]));
  return judgement.metrics.map((m: MetricJudgement) => {
    const group = groups.get(m.group);
    return {
      name: m.name,
      metric: m.metric,
      group: m.group,
      critical: m.critical,
      canary: formatValue(m.metric, m.canary?.mean),
      baseline: formatValue(m.metric, m.baseline?.mean),
      change: change(m.ratio),
      classification: m.classification,
      failed: m.failed,
      groupScore: group ? `${round(group.score)} (${group.passed}/${group.counted}, weight ${round(group.weight)})` : '—',
      reason: m.reason,
    };
  });
}

function isJudgement(value: unknown): value is StepJudgement {
  return !!value && typeof value === 'object' && Array.isArray((value as StepJudgement).metrics) && Array.isArray((value as StepJudgement).groups);
}

/** Everything the execution view shows about analysis; undefined when the shift is not analysed. */
export function analysisView(status: ShiftStatus | undefined): AnalysisView | undefined {
  if (!status) return undefined;
  const analysed = status as unknown as AnalysedStatus;
  const steps = (Array.isArray(analysed.steps) ? analysed.steps : [])
    .filter((step) => isJudgement(step.analysis))
    .map((step) => ({ step: step.index, judgement: step.analysis!, summary: describeJudgement(step.analysis!, step.index), rows: judgementRows(step.analysis!) }));
  const failed = status.failure && ANALYSIS_FAILURES.includes(status.failure.reason) ? status.failure : undefined;
  if (steps.length === 0 && !analysed.analysis && !failed) return undefined;
  return { overall: analysed.analysis, steps, failure: failed?.message, failureReason: failed?.reason };
}
