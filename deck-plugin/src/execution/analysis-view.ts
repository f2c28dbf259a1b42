/**
 * What the execution view shows about analysis, from the service's status body (and the stage's
 * payload, for the steps and metrics not judged yet): free of React and of @spinnaker/core.
 *
 * Every step and every metric has one defined state:
 * - a step is judged, has not enough evidence (InsufficientData: no verdict), stopped early (a
 *   sequential test crossed, or pod health failed, before the window's end), is not judged yet,
 *   skipped (`steps[i].analysis.skip`), or not analysed (no pause);
 * - a metric is judged (Pass, High, Low), has no data (Nodata, NodataFail, or no value at all), not
 *   enough data (fewer points than `evidence.minPoints`), stopped the step early, or is not judged
 *   yet (the step stopped before it, or has not been judged).
 *
 * Judgements are plain JSON the service stored, possibly by an older or newer version of it: every
 * field is read as "maybe missing" (`finite`, `list`, `text`), so no shape crashes the view.
 *
 * Only types come from the judge's modules, so the statistics (judge.ts, sequential.ts, errors.ts,
 * mann-whitney.ts, ...) stay out of the plugin's bundle; the build fails if one gets in
 * (webpack.config.js). Number formats come from core's format.ts, which the service's messages use too.
 * The service's own sentence about a failed step is in the status body's failure message.
 *
 * A running step not judged yet may carry `progress`: what the last look of the service replica that
 * answered the poll saw (each tested metric's e-value, the requests so far). It is only in that
 * replica's memory, so it comes and goes (another replica, a restart); the view shows it as "live"
 * and only while the stage is running.
 */
import type { Classification, EvidenceGate, MetricJudgement, PodEvent, SequentialResult, ShiftStatus, StepJudgement, StepProgress, StepRecord, StepResult } from '@istio-shift/core';
import { formatE as formatEValue, formatShare as formatShareValue } from '@istio-shift/core';
import { ANALYSIS_FAILURE_REASONS, FAILURE_REASON } from '@istio-shift/core';

// ---------------------------------------------------------------------------------------------
// Tolerant readers
// ---------------------------------------------------------------------------------------------

/**
 * A number from a stored judgement, or null. Judgements are plain JSON written by the service (and by
 * older versions of it): a summary may be `{"count": 0}` without a mean, a ratio may be missing.
 */
export function finite(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

const list = <T>(value: unknown): T[] => (Array.isArray(value) ? (value as T[]) : []);
const text = (value: unknown): string => (typeof value === 'string' ? value : typeof value === 'number' && Number.isFinite(value) ? String(value) : '');
const record = (value: unknown): Record<string, unknown> | undefined => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined);

function round(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  return String(Number(value.toPrecision(3)));
}

/** A whole count with thousands separators ("6,012"); "—" when it is not a number. */
export function formatCount(value: unknown): string {
  const n = finite(value);
  return n === null ? '—' : Math.round(n).toLocaleString('en-US');
}

/** A share as a percentage (100%, 53%, 4.5%, 0.12%); "—" when it is not a number. */
export function formatShare(value: unknown): string {
  const share = finite(value);
  return share === null ? '—' : formatShareValue(share);
}

/** An e-value as the service's messages print it (37, 400, 2.1, 3.2e+7); "—" when it is not a number. */
export function formatE(value: unknown): string {
  const e = finite(value);
  return e === null ? '—' : formatEValue(e);
}

/** A metric's value with its unit, as the table shows it; "no data" for anything that is not a finite number. */
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

/** canary / baseline as a change: "+12%", "-7.9%", "0.0%"; "—" without a ratio. */
export function formatChange(raw: unknown): string {
  const ratio = finite(raw);
  if (ratio === null) return '—';
  const pct = (ratio - 1) * 100;
  const digits = Math.abs(pct) < 10 ? pct.toFixed(1) : pct.toFixed(0);
  // -0.04% rounds to "-0.0": no change is shown unsigned.
  if (Number(digits) === 0) return `${Math.abs(Number(digits)).toFixed(Math.abs(pct) < 10 ? 1 : 0)}%`;
  return `${pct > 0 ? '+' : ''}${digits}%`;
}

// ---------------------------------------------------------------------------------------------
// The view model
// ---------------------------------------------------------------------------------------------

export const ANALYSIS_FAILED = FAILURE_REASON.ANALYSIS_FAILED;
export const ANALYSIS_INSUFFICIENT_DATA = FAILURE_REASON.ANALYSIS_INSUFFICIENT_DATA;
/** The failure reasons the analysis part of the view explains (the judgement failed, could not be made, or had too little evidence). */
export const ANALYSIS_FAILURES: readonly string[] = ANALYSIS_FAILURE_REASONS;

/** How the failure box introduces the service's message, by failure reason. */
export const FAILURE_HEADINGS: Record<string, string> = {
  [FAILURE_REASON.ANALYSIS_FAILED]: 'Analysis failed the shift:',
  [FAILURE_REASON.ANALYSIS_UNAVAILABLE]: 'Analysis could not run:',
  [FAILURE_REASON.ANALYSIS_INSUFFICIENT_DATA]: 'Too little evidence to judge the canary:',
};

export type MetricState = 'judged' | 'no-data' | 'insufficient' | 'stopped-early' | 'not-judged';
export type StepState = 'judged' | 'insufficient' | 'stopped-early' | 'not-judged' | 'skipped' | 'not-analysed';

export interface JudgementRow {
  name: string;
  metric: string;
  group: string;
  critical: boolean;
  canary: string;
  baseline: string;
  /** Error-count metrics: "6 of 6,012 failed" per scope. */
  counts?: { canary: string; baseline: string };
  change: string;
  classification: Classification | '';
  state: MetricState;
  /** What the result column says: the classification, "No data", "Not enough data", "Not judged yet", ... */
  result: string;
  /** High, Low or NodataFail: counts against the group. */
  failed: boolean;
  /** The score of the metric's group in this step. */
  groupScore: string;
  reason: string;
}

export interface EvidenceView {
  passed: boolean;
  /** "canary 6,012 / baseline 5,990 (the canary needs 50)", or why there are none. */
  requests: string;
  errors?: string;
  /** "100% of its expected share (at least 50%; weights canary/baseline 1)". */
  trafficShare?: string;
  shortMetrics: string[];
  problems: string[];
}

export interface SequentialView {
  name: string;
  eValue: string;
  threshold: string;
  /** Position of the e-value between 1 and the threshold on a log scale, 0..1 (1: crossed). */
  fill: number;
  crossed: boolean;
  /** "crossed at interval 9 of 18", "18 intervals, peak 3.7". */
  note: string;
}

export interface PodEventRow {
  metric: string;
  pod: string;
  container: string;
  kind: string;
  reason: string;
  count: string;
}

/** A running step's live progress (steps[i].progress), as the step's panel shows it. */
export interface LiveView {
  /** "live: e-value 37 / 900 after 6 intervals, canary 1,830 requests" (the metric nearest its threshold). */
  summary: string;
  /** When the look was, and why the numbers may disappear. */
  note: string;
  /** Every tested metric's e-value so far, as the judged steps' bars show them. */
  sequential: SequentialView[];
  /** "canary 1,830 / baseline 1,822"; absent when the look did not count requests. */
  requests?: string;
  errors?: string;
}

export interface StepAnalysisView {
  step: number;
  state: StepState;
  /** The stored judgement (judged, insufficient, stopped-early). */
  judgement?: StepJudgement;
  result?: StepResult;
  /** "Step 1: Pass, score 100 (pass 75, marginal 50)", "Step 2: Not enough data, no verdict (...)", "Step 3: not judged yet". */
  title: string;
  /** The title in two parts, the result words (coloured) and the rest: title = `Step N: ${resultText}${detail}`. */
  resultText: string;
  detail: string;
  /** Notes under the title: why the score is 0, that the step stopped early, what the gate wants. */
  notes: string[];
  rows: JudgementRow[];
  evidence?: EvidenceView;
  /** The sequential tests: the error budget, then one line per tested metric. */
  sequentialNote?: string;
  sequential: SequentialView[];
  events: PodEventRow[];
  /** A running step not judged yet: the last look's progress, when the status body has it. */
  live?: LiveView;
}

/** Kept for existing imports: a judged step's part of the view. */
export type StepJudgementView = StepAnalysisView;

export interface AnalysisView {
  overall?: { score: number | null; result: StepResult | string; text: string };
  steps: StepAnalysisView[];
  /** The failure message when analysis failed the shift (what happened to traffic is in it). */
  failure?: string;
  /** ANALYSIS_FAILED, ANALYSIS_UNAVAILABLE or ANALYSIS_INSUFFICIENT_DATA, with failure. */
  failureReason?: string;
}

export const RESULT_WORDS: Record<string, string> = { Pass: 'Pass', Marginal: 'Marginal', Fail: 'Fail', InsufficientData: 'Not enough data' };
const resultWords = (result: unknown) => RESULT_WORDS[text(result)] ?? (text(result) || 'no result');

const KIND_WORDS: Record<string, string> = { restart: 'restart', 'oom-kill': 'OOM kill', 'not-ready': 'not ready' };

/** The parts of the stage's payload the view uses: which metrics exist, which steps pause or skip. */
interface PayloadShape {
  metrics: string[];
  steps: Array<{ skip: boolean; pause: boolean | undefined }>;
  analysed: boolean;
}

function payloadShape(payload: unknown): PayloadShape {
  const p = record(payload);
  const analysis = record(p?.analysis);
  const metrics = list<unknown>(analysis?.metrics)
    .map((m) => text(record(m)?.name))
    .filter((name) => name !== '');
  const steps = list<unknown>(p?.steps).map((s) => {
    const step = record(s);
    const own = record(step?.analysis);
    const pause = step?.pause;
    return { skip: own?.skip === true || own?.skip === 'true', pause: pause === undefined || pause === '' || pause === 0 || pause === '0s' ? false : pause === null ? undefined : true };
  });
  return { metrics, steps, analysed: !!analysis };
}

function groupScore(judgement: StepJudgement, group: string): string {
  const g = list<Record<string, unknown>>(judgement.groups).find((x) => record(x)?.name === group);
  const score = finite(g?.score);
  if (!g || score === null) return '—';
  const weight = finite(g.weight);
  return `${round(score)} (${formatCount(g.passed)}/${formatCount(g.counted)}${weight === null ? '' : `, weight ${round(weight)}`})`;
}

function countsText(c: unknown): string {
  const counts = record(c);
  const requests = finite(counts?.requests);
  const errors = finite(counts?.errors);
  if (requests === null) return 'no requests counted';
  if (requests === 0) return 'no requests';
  return `${formatCount(errors ?? 0)} of ${formatCount(requests)} failed`;
}

/** "5xx ×4.2" from the error-rate ratio; "5xx from 0" when only the canary had errors. */
function errorRatio(raw: unknown, counts: Record<string, unknown>): string {
  const ratio = finite(raw);
  if (ratio !== null) return `5xx ×${round(ratio)}`;
  const canaryErrors = finite(record(counts.canary)?.errors);
  const baselineErrors = finite(record(counts.baseline)?.errors);
  if (canaryErrors !== null && canaryErrors > 0 && baselineErrors === 0) return '5xx from 0';
  return '—';
}

function isNodata(classification: unknown) {
  return classification === 'Nodata' || classification === 'NodataFail';
}

function metricRow(m: MetricJudgement, judgement: StepJudgement, shortNames: Map<string, { canary: number | null; baseline: number | null }>, minPoints: number | null): JudgementRow {
  const metricKind = text(m.metric) || 'custom';
  const name = text(m.name) || '(unnamed)';
  const classification = (text(m.classification) as Classification) || '';
  const failed = m.failed === true;
  const counts = record(m.counts);
  const canaryMean = finite(record(m.canary)?.mean);
  const canaryRequests = finite(record(counts?.canary)?.requests);
  const short = shortNames.get(name);
  let state: MetricState = 'judged';
  let result: string = classification || 'no result';
  if (judgement.stoppedEarly === true && failed) {
    state = 'stopped-early';
    result = `${classification || 'Fail'}: stopped the step`;
  } else if (isNodata(classification) || (canaryMean === null && !(canaryRequests !== null && canaryRequests > 0))) {
    state = 'no-data';
    result = classification === 'NodataFail' ? 'No data (fails)' : classification === 'Nodata' ? 'No data (not counted)' : `No data${classification ? ` (${classification})` : ''}`;
  } else if (short) {
    state = 'insufficient';
    const need = minPoints === null ? '' : ` of ${minPoints}`;
    result = `Not enough data (${formatCount(short.canary)}${need} canary, ${formatCount(short.baseline)}${need} baseline points)`;
  }
  const row: JudgementRow = {
    name,
    metric: metricKind,
    group: text(m.group),
    critical: m.critical === true,
    canary: formatValue(metricKind, record(m.canary)?.mean),
    baseline: formatValue(metricKind, record(m.baseline)?.mean),
    // An error-count judge's ratio is of the error rates (canary 5xx rate / baseline's), not of the success rates.
    change: counts ? errorRatio(m.ratio, counts) : formatChange(m.ratio),
    classification,
    state,
    result,
    failed,
    groupScore: groupScore(judgement, text(m.group)),
    reason: text(m.reason),
  };
  if (counts) row.counts = { canary: countsText(counts.canary), baseline: countsText(counts.baseline) };
  return row;
}

function notJudgedRow(name: string, stoppedEarly: boolean): JudgementRow {
  const reason = stoppedEarly ? 'the step stopped before its window ended, before this metric was judged' : 'not in this judgement';
  const result = stoppedEarly ? 'Not judged (the step stopped first)' : 'Not judged yet';
  return { name, metric: '', group: '', critical: false, canary: '—', baseline: '—', change: '—', classification: '', state: 'not-judged', result, failed: false, groupScore: '—', reason };
}

export function evidenceView(raw: unknown): EvidenceView | undefined {
  const gate = record(raw) as Partial<EvidenceGate> | undefined;
  if (!gate) return undefined;
  const requests = record(gate.requests);
  const errors = record(gate.errors);
  const minRequests = finite(gate.minRequests);
  const need = minRequests !== null && minRequests > 0 ? ` (the canary needs ${formatCount(minRequests)})` : '';
  const view: EvidenceView = {
    passed: gate.passed === true,
    requests: requests ? `canary ${formatCount(requests.canary)} / baseline ${formatCount(requests.baseline)}${need}` : `not read${need}`,
    shortMetrics: [],
    problems: list<unknown>(gate.problems).map(text).filter((p) => p !== ''),
  };
  if (errors) view.errors = `canary ${formatCount(errors.canary)} / baseline ${formatCount(errors.baseline)}`;
  const share = finite(gate.trafficShare);
  const minShare = finite(gate.minTrafficShare);
  const expected = finite(gate.expectedRatio);
  if (share !== null || (expected !== null && minShare !== null && minShare > 0)) {
    const at = expected === null ? '' : `; weights canary/baseline ${round(expected)}`;
    view.trafficShare = `${share === null ? 'not measured' : `${formatShare(share)} of its expected share`} (${minShare !== null && minShare > 0 ? `at least ${formatShare(minShare)}` : 'not checked'}${at})`;
  }
  const minPoints = finite(gate.minPoints);
  for (const s of list<unknown>(gate.shortMetrics)) {
    const short = record(s);
    if (!short) continue;
    view.shortMetrics.push(`${text(short.name) || '(unnamed)'}: ${formatCount(short.canary)} canary and ${formatCount(short.baseline)} baseline points${minPoints === null ? '' : ` (needs ${formatCount(minPoints)} each)`}`);
  }
  return view;
}

export function sequentialView(name: string, raw: unknown): SequentialView | undefined {
  const s = record(raw) as Partial<SequentialResult> | undefined;
  if (!s) return undefined;
  const e = finite(s.eValue);
  const max = finite(s.maxEValue);
  const threshold = finite(s.threshold);
  const crossed = s.crossed === true;
  const looks = finite(s.looks);
  let fill = 0;
  if (crossed) fill = 1;
  else if (e !== null && threshold !== null && threshold > 1 && e > 1) fill = Math.min(1, Math.log(e) / Math.log(threshold));
  const intervals = looks === null ? '' : `${formatCount(looks)} interval${looks === 1 ? '' : 's'}`;
  const crossedAt = finite(s.crossedAt);
  let note: string;
  if (crossed) note = `crossed at interval ${crossedAt === null ? '?' : formatCount(crossedAt)}${looks === null ? '' : ` of ${formatCount(looks)}`}${max !== null ? `, peak ${formatE(max)}` : ''}`;
  else note = [intervals, max !== null && e !== null && max > e ? `peak ${formatE(max)}` : ''].filter((x) => x).join(', ') || 'no intervals yet';
  return { name, eValue: formatE(e), threshold: formatE(threshold), fill: Number.isFinite(fill) ? Math.max(0, fill) : 0, crossed, note };
}

/** "10:04:12 UTC" from an ISO time; '' when it is not one. */
function clock(value: unknown): string {
  const ms = Date.parse(text(value));
  return Number.isNaN(ms) ? '' : `${new Date(ms).toISOString().slice(11, 19)} UTC`;
}

/** A step's live progress (steps[i].progress), read as "maybe missing" like a judgement. */
export function liveView(raw: unknown): LiveView | undefined {
  const p = record(raw) as Partial<StepProgress> | undefined;
  if (!p) return undefined;
  const tests = list<unknown>(p.metrics)
    .map((m) => record(m))
    .filter((m): m is Record<string, unknown> => !!m)
    .map((m) => ({ intervals: finite(m.intervals), view: sequentialView(text(m.name) || '(unnamed)', { eValue: m.eValue, maxEValue: m.maxEValue, threshold: m.threshold, crossed: m.crossed, looks: m.intervals }) as SequentialView }));
  const looks = finite(p.looks);
  const evidence = record(p.evidence);
  const requests = record(evidence?.requests);
  const errors = record(evidence?.errors);
  // The test nearest its threshold (the first of equals) speaks for the step.
  const lead = tests.reduce<(typeof tests)[number] | undefined>((best, t) => (!best || t.view.fill > best.view.fill ? t : best), undefined);
  const parts: string[] = [];
  if (lead) {
    const after = lead.intervals === null ? '' : ` after ${formatCount(lead.intervals)} interval${lead.intervals === 1 ? '' : 's'}`;
    parts.push(`${tests.length > 1 ? `${lead.view.name} ` : ''}e-value ${lead.view.eValue} / ${lead.view.threshold}${after}${lead.view.crossed ? ' (crossed)' : ''}`);
  } else if (looks !== null) {
    parts.push(`${formatCount(looks)} look${looks === 1 ? '' : 's'} so far`);
  }
  if (requests && finite(requests.canary) !== null) parts.push(`canary ${formatCount(requests.canary)} request${finite(requests.canary) === 1 ? '' : 's'}`);
  const at = clock(p.at);
  const when = [at ? `at ${at}` : '', looks === null ? '' : `look ${formatCount(looks)} of this step`].filter((x) => x).join(', ');
  const view: LiveView = {
    summary: `live: ${parts.join(', ') || 'looking'}`,
    note: `From the last look${when ? ` (${when})` : ''} of the service replica that answered; it is kept in that replica's memory only, so another replica or a restart may not have it.`,
    sequential: tests.map((t) => t.view),
  };
  if (requests) view.requests = `canary ${formatCount(requests.canary)} / baseline ${formatCount(requests.baseline)}`;
  if (errors) view.errors = `canary ${formatCount(errors.canary)} / baseline ${formatCount(errors.baseline)}`;
  return view;
}

function podEvents(metrics: MetricJudgement[]): PodEventRow[] {
  const rows: PodEventRow[] = [];
  for (const m of metrics) {
    for (const raw of list<unknown>(record(m)?.events)) {
      const e = record(raw) as Partial<PodEvent> | undefined;
      if (!e) continue;
      rows.push({ metric: text(m.name), pod: text(e.pod) || '—', container: text(e.container) || '—', kind: KIND_WORDS[text(e.kind)] ?? (text(e.kind) || '—'), reason: text(e.reason) || '—', count: formatCount(e.count) });
    }
  }
  return rows;
}

function judgedStep(step: number, judgement: StepJudgement, shape: PayloadShape): StepAnalysisView {
  const metrics = list<MetricJudgement>(judgement.metrics).filter((m) => record(m));
  const gate = record(judgement.evidence) as Partial<EvidenceGate> | undefined;
  const minPoints = finite(gate?.minPoints);
  const shortNames = new Map<string, { canary: number | null; baseline: number | null }>();
  for (const s of list<unknown>(gate?.shortMetrics)) {
    const short = record(s);
    if (short && text(short.name)) shortNames.set(text(short.name), { canary: finite(short.canary), baseline: finite(short.baseline) });
  }
  const result = judgement.result;
  const stoppedEarly = judgement.stoppedEarly === true;
  const state: StepState = result === 'InsufficientData' ? 'insufficient' : stoppedEarly ? 'stopped-early' : 'judged';
  const rows = metrics.map((m) => metricRow(m, judgement, shortNames, minPoints));
  const judged = new Set(rows.map((r) => r.name));
  const missing = shape.metrics.filter((name) => !judged.has(name));
  rows.push(...missing.map((name) => notJudgedRow(name, stoppedEarly)));

  const score = finite(judgement.score);
  const thresholds = record(judgement.thresholds);
  const pass = finite(thresholds?.pass);
  const marginal = finite(thresholds?.marginal);
  const bounds = pass !== null || marginal !== null ? ` (pass ${pass ?? '—'}, marginal ${marginal ?? '—'})` : '';
  const scoreText = score === null ? 'no score' : `score ${Number(score.toFixed(1))}`;
  const resultText = state === 'insufficient' ? 'Not enough data' : resultWords(result);
  let detail = state === 'insufficient' ? `, no verdict (${scoreText} not counted${pass === null ? '' : `; pass ${pass}`})` : `, ${scoreText}${bounds}`;
  if (judgement.forcedZero === 'critical') detail += ' — forced to 0 by a failing critical metric';
  if (judgement.forcedZero === 'nodata') detail += ' — forced to 0: half or more of the metrics have no data';

  const notes: string[] = [];
  if (stoppedEarly) {
    const crossed = rows.filter((r) => r.state === 'stopped-early');
    const bySequential = metrics.filter((m) => m.failed === true && record(m.sequential)?.crossed === true).map((m) => text(m.name));
    const byGate = crossed.map((r) => r.name).filter((n) => !bySequential.includes(n));
    const parts: string[] = [];
    if (bySequential.length > 0) parts.push(`the sequential test of ${bySequential.join(', ')} crossed its threshold`);
    if (byGate.length > 0) parts.push(`the critical ${byGate.join(', ')} failed`);
    notes.push(`Stopped before the window ended: ${parts.length > 0 ? parts.join('; ') : 'a metric failed'}.${missing.length > 0 ? ' The other metrics were not judged.' : ''}`);
  }
  if (state === 'insufficient') notes.push('The step saw too little to judge: the service waits for more evidence (up to evidence.extendUpTo), then fails the step or holds the weights (evidence.onInsufficient). It never promotes without evidence.');
  if (metrics.length === 0 && missing.length === 0) notes.push('No metric was judged in this judgement.');

  const budget = record(judgement.sequential);
  let sequentialNote: string | undefined;
  if (budget) {
    const alpha = finite(budget.alpha);
    const tested = finite(budget.tested);
    // Since the weighted split each metric has its own share (`shares`); earlier judgements stored one `metricAlpha`.
    const shares = record(budget.shares);
    const metricAlpha = finite(budget.metricAlpha);
    const split = shares ? ' by weight; a metric fails when its e-value reaches 1 / its share' : metricAlpha !== null && metricAlpha > 0 ? `; each fails at e-value ${formatE(1 / metricAlpha)}` : '';
    sequentialNote = `Alpha ${alpha ?? '—'} split over ${tested === null ? '?' : formatCount(tested)} tested metric${tested === 1 ? '' : 's'}${split}.`;
  }
  const sequential = metrics.map((m) => sequentialView(text(m.name) || '(unnamed)', m.sequential)).filter((s): s is SequentialView => !!s);
  const view: StepAnalysisView = {
    step,
    state,
    judgement,
    result: typeof result === 'string' ? result : undefined,
    title: `Step ${step}: ${resultText}${detail}`,
    resultText,
    detail,
    notes,
    rows,
    sequential,
    events: podEvents(metrics),
  };
  const evidence = evidenceView(judgement.evidence);
  if (evidence) view.evidence = evidence;
  if (sequentialNote) view.sequentialNote = sequentialNote;
  return view;
}

function isJudgement(value: unknown): value is StepJudgement {
  return !!record(value) && Array.isArray((value as StepJudgement).metrics);
}

function unjudgedStep(step: number, state: StepState, ended: boolean): StepAnalysisView {
  const words: Partial<Record<StepState, string>> = {
    'not-judged': ended ? 'not judged (the shift ended first)' : 'not judged yet',
    skipped: 'analysis skipped (skip analysis is set)',
    'not-analysed': 'not analysed (no pause)',
  };
  return { step, state, title: `Step ${step}: ${words[state]}`, resultText: words[state] ?? '', detail: '', notes: [], rows: [], sequential: [], events: [] };
}

/**
 * Everything the execution view shows about analysis; undefined when the shift is not analysed.
 * `payload` (the stage's `context.payload`) adds the steps and metrics not judged yet. `live: false`
 * leaves out the running step's progress (the body is an old one: Orca stopped polling).
 */
export function analysisView(status: ShiftStatus | undefined, payload?: unknown, options: { live?: boolean } = {}): AnalysisView | undefined {
  const body = record(status) as (Partial<ShiftStatus> & Record<string, unknown>) | undefined;
  if (!body) return undefined;
  const shape = payloadShape(payload);
  const records = list<StepRecord>(body.steps).filter((s) => record(s));
  const ended = body.status !== undefined && body.status !== 'RUNNING';
  const steps: StepAnalysisView[] = [];
  records.forEach((s, i) => {
    const index = finite(s.index) ?? i + 1;
    if (isJudgement(s.analysis)) {
      steps.push(judgedStep(index, s.analysis, shape));
      return;
    }
    // Progress means the step is analysed, whatever the payload says (or lacks).
    const live = !ended && options.live !== false ? liveView(s.progress) : undefined;
    if (live) {
      steps.push({ ...unjudgedStep(index, 'not-judged', ended), live });
      return;
    }
    if (!shape.analysed) return;
    const own = shape.steps[index - 1];
    const pause = finite(s.pauseSeconds);
    if (own?.skip) steps.push(unjudgedStep(index, 'skipped', ended));
    else if (pause === 0 || (pause === null && own?.pause === false)) steps.push(unjudgedStep(index, 'not-analysed', ended));
    else steps.push(unjudgedStep(index, 'not-judged', ended));
  });
  const failure = record(body.failure);
  const failed = failure && ANALYSIS_FAILURES.includes(text(failure.reason)) ? failure : undefined;
  const overallRaw = record(body.analysis);
  if (!steps.some((s) => s.judgement || s.live) && !overallRaw && !failed && !shape.analysed) return undefined;
  const view: AnalysisView = { steps };
  if (overallRaw) {
    const score = finite(overallRaw.score);
    // Too little evidence gives no verdict: its score is not counted, so it is not shown as the result's score.
    const verdict = text(overallRaw.result) === 'InsufficientData' ? 'Not enough data, no verdict' : `${resultWords(overallRaw.result)}${score === null ? '' : `, score ${Number(score.toFixed(1))}`}`;
    // A running or cancelled shift whose current step was never judged: the result is an earlier step's, so say which.
    const judgedStep = finite(overallRaw.step);
    const current = finite(body.currentStep);
    const open = body.status === 'RUNNING' || body.status === 'CANCELED';
    const currentView = steps.find((s) => s.step === current);
    const unjudged = currentView ? !currentView.judgement : true;
    const words = body.status === 'RUNNING' ? 'not judged yet' : 'was not judged';
    const currentWords = currentView?.state === 'skipped' || currentView?.state === 'not-analysed' ? 'is not analysed' : words;
    const named = open && judgedStep !== null && current !== null && judgedStep < current && unjudged;
    view.overall = { score, result: text(overallRaw.result), text: named ? `Step ${judgedStep}: ${verdict} (step ${current} ${currentWords})` : verdict };
  }
  if (failed) {
    view.failure = text(failed.message);
    view.failureReason = text(failed.reason);
  }
  return view;
}

/** The rows of one judgement (without the payload's metrics). */
export function judgementRows(judgement: StepJudgement): JudgementRow[] {
  return judgedStep(0, judgement, { metrics: [], steps: [], analysed: false }).rows;
}
