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
 * The model holds the words the panels show, already formatted (a fact list per panel, a note per
 * test), so the components only lay them out.
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
import type { Classification, EvidenceGate, PodEvent, SequentialResult, ShiftStatus, StepJudgement, StepProgress, StepRecord, StepResult } from '@istio-shift/core';
import { ANALYSIS_FAILURE_REASONS, formatE as formatEValue, formatShare as formatShareValue } from '@istio-shift/core';

// ---------------------------------------------------------------------------------------------
// Tolerant readers and number formats
// ---------------------------------------------------------------------------------------------

/**
 * A number from a stored judgement, or null. Judgements are plain JSON written by the service (and by
 * older versions of it): a summary may be `{"count": 0}` without a mean, a ratio may be missing.
 */
function finite(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

const list = <T = unknown>(value: unknown): T[] => (Array.isArray(value) ? (value as T[]) : []);
const text = (value: unknown): string => (typeof value === 'string' ? value : finite(value) === null ? '' : String(value));
type Fields = Record<string, unknown>;
const isRecord = (value: unknown): value is Fields => !!value && typeof value === 'object' && !Array.isArray(value);
/** The field at `path` inside a value ("maybe missing" at every level): `at(m, 'canary', 'mean')`. */
const at = (value: unknown, ...path: string[]): unknown => path.reduce((v, key) => (isRecord(v) ? v[key] : undefined), value);
/** A value's fields, or none: reading a missing field of anything gives undefined. */
const fields = (value: unknown): Fields => (isRecord(value) ? value : {});
const nameOf = (value: unknown) => text(at(value, 'name')) || '(unnamed)';

function round(value: number): string {
  if (value === 0) return '0';
  return Math.abs(value) >= 100 ? value.toFixed(0) : String(Number(value.toPrecision(3)));
}

/** A format for numbers read as "maybe missing": "—" for anything that is not a finite number. */
const orDash =
  (format: (n: number) => string) =>
  (value: unknown): string => {
    const n = finite(value);
    return n === null ? '—' : format(n);
  };
/** A whole count with thousands separators ("6,012"). */
const formatCount = orDash((n) => Math.round(n).toLocaleString('en-US'));
/** A share as a percentage (100%, 53%, 4.5%, 0.12%). */
const formatShare = orDash(formatShareValue);
/** An e-value as the service's messages print it (37, 400, 2.1, 3.2e+7). */
const formatE = orDash(formatEValue);
/** "6 intervals", "1 look". */
const counted = (n: unknown, word: string) => `${formatCount(n)} ${word}${n === 1 ? '' : 's'}`;
/** "canary 6,012 / baseline 5,990" from a {canary, baseline} record. */
const pair = (value: Fields) => `canary ${formatCount(value.canary)} / baseline ${formatCount(value.baseline)}`;

/** The Requests and 5xx lines of a panel; `need` follows the requests ("(the canary needs 50)"). */
const countLines = (requests: unknown, errors: unknown, need = ''): Fact[] => [
  ['Requests', `${isRecord(requests) ? pair(requests) : 'not read'}${need}`],
  isRecord(errors) && ['5xx', pair(errors)],
];

/** The unit each built-in metric's values are shown in (memory is stored in bytes). */
const UNITS: Record<string, string> = {
  'success-rate': '%',
  readiness: '%',
  'latency-p50': ' ms',
  'latency-p95': ' ms',
  'latency-p99': ' ms',
  cpu: ' cores',
  memory: ' MiB',
};

/** A metric's value with its unit, as the table shows it; "no data" for anything that is not a finite number. */
export function formatValue(metric: string, raw: unknown): string {
  const value = finite(raw);
  if (value === null) return 'no data';
  return round(metric === 'memory' ? value / 1048576 : value) + (UNITS[metric] || '');
}

/** canary / baseline as a change: "+12%", "-7.9%", "0.0%"; "—" without a ratio. */
const formatChange = orDash((ratio) => {
  const pct = (ratio - 1) * 100;
  const digits = Math.abs(pct) < 10 ? 1 : 0;
  const shown = pct.toFixed(digits);
  // -0.04% rounds to "-0.0": no change is shown unsigned.
  return `${Number(shown) === 0 ? (0).toFixed(digits) : `${pct > 0 ? '+' : ''}${shown}`}%`;
});

// ---------------------------------------------------------------------------------------------
// The view model
// ---------------------------------------------------------------------------------------------

/** The failure the analysis part explains (the judgement failed, could not be made, or had too little evidence). */
export function analysisFailure(status: unknown): { reason: string; message: string } | undefined {
  const reason = text(at(status, 'failure', 'reason'));
  return (ANALYSIS_FAILURE_REASONS as readonly string[]).includes(reason) ? { reason, message: text(at(status, 'failure', 'message')) } : undefined;
}

export type MetricState = 'judged' | 'no-data' | 'insufficient' | 'stopped-early' | 'not-judged';
export type StepState = 'judged' | 'insufficient' | 'stopped-early' | 'not-judged' | 'skipped' | 'not-analysed';

/** A line of a panel's fact list: label and value; false or '' leaves the line out. */
export type Fact = [string, string] | false | '' | undefined;

export interface JudgementRow {
  name: string;
  group?: string;
  critical?: boolean;
  canary: string;
  baseline: string;
  /** Error-count metrics: "6 of 6,012 failed" per scope. */
  counts?: { canary: string; baseline: string };
  change: string;
  classification?: Classification | '';
  state: MetricState;
  /** What the result column says: the classification, "No data", "Not enough data", "Not judged yet", ... */
  result: string;
  /** High, Low or NodataFail: counts against the group. */
  failed?: boolean;
  /** The score of the metric's group in this step. */
  groupScore: string;
  reason: string;
}

export interface EvidenceView {
  passed: boolean;
  /** Requests, 5xx, canary traffic, short metrics: the lines the panel lists. */
  facts: Fact[];
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

/** A running step's live progress (steps[i].progress), as the step's panel shows it. */
export interface LiveView {
  /** "live: e-value 37 / 900 after 6 intervals, canary 1,830 requests" (the metric nearest its threshold). */
  summary: string;
  /** When the look was, and why the numbers may disappear. */
  note: string;
  /** Every tested metric's e-value so far, as the judged steps' bars show them. */
  sequential: SequentialView[];
  /** Requests and 5xx so far; empty when the look did not count requests. */
  facts: Fact[];
}

export interface StepAnalysisView {
  step: number;
  state: StepState;
  /** The stored judgement (judged, insufficient, stopped-early). */
  judgement?: StepJudgement;
  /** The title is `Step N: ${resultText}${detail}`; resultText (the result words) is coloured by `result`. */
  result?: StepResult;
  resultText: string;
  detail?: string;
  /** Notes under the title: why the score is 0, that the step stopped early, what the gate wants. */
  notes?: string[];
  /** The metric table (none for a step without a judgement). */
  rows: JudgementRow[];
  evidence?: EvidenceView;
  /** The sequential tests: the error budget, then one line per tested metric. */
  sequentialNote?: string;
  sequential?: SequentialView[];
  /** The canary's pod events: pod, container, event, reason, count, metric. */
  events?: string[][];
  /** A running step not judged yet: the last look's progress, when the status body has it. */
  live?: LiveView;
}

export interface AnalysisView {
  overall?: { score: number | null; result: string; text: string };
  steps: StepAnalysisView[];
  /** The failure message when analysis failed the shift (what happened to traffic is in it). */
  failure?: string;
  /** ANALYSIS_FAILED, ANALYSIS_UNAVAILABLE or ANALYSIS_INSUFFICIENT_DATA, with failure. */
  failureReason?: string;
}

const RESULT_WORDS: Record<string, string> = { Pass: 'Pass', Marginal: 'Marginal', Fail: 'Fail', InsufficientData: 'Not enough data' };
const resultWords = (result: unknown) => RESULT_WORDS[text(result)] || text(result) || 'no result';

const KIND_WORDS: Record<string, string> = { restart: 'restart', 'oom-kill': 'OOM kill', 'not-ready': 'not ready' };

/** The parts of the stage's payload the view uses: which metrics exist, which steps pause or skip. */
interface PayloadShape {
  metrics: string[];
  steps: Array<{ skip: boolean; pause: boolean | undefined }>;
  analysed: boolean;
}

function payloadShape(payload: unknown): PayloadShape {
  const steps = list(at(payload, 'steps')).map((step) => {
    const skip = at(step, 'analysis', 'skip');
    const pause = at(step, 'pause');
    return { skip: skip === true || skip === 'true', pause: pause === null ? undefined : !['', 0, '0s', undefined].includes(pause as string) };
  });
  return { metrics: list(at(payload, 'analysis', 'metrics')).map((m) => text(at(m, 'name'))).filter(Boolean), steps, analysed: isRecord(at(payload, 'analysis')) };
}

function groupScore(judgement: StepJudgement, group: string): string {
  const g = fields(list(judgement.groups).find((x) => at(x, 'name') === group));
  const score = finite(g.score);
  if (score === null) return '—';
  const weight = finite(g.weight);
  return `${round(score)} (${formatCount(g.passed)}/${formatCount(g.counted)}${weight === null ? '' : `, weight ${round(weight)}`})`;
}

function countsText(c: unknown): string {
  const requests = finite(at(c, 'requests'));
  if (requests === null) return 'no requests counted';
  return requests === 0 ? 'no requests' : `${formatCount(finite(at(c, 'errors')) || 0)} of ${formatCount(requests)} failed`;
}

/** "5xx ×4.2" from the error-rate ratio; "5xx from 0" when only the canary had errors. */
function errorRatio(raw: unknown, counts: Fields): string {
  const ratio = finite(raw);
  if (ratio !== null) return `5xx ×${round(ratio)}`;
  const canaryErrors = finite(at(counts, 'canary', 'errors'));
  return canaryErrors !== null && canaryErrors > 0 && at(counts, 'baseline', 'errors') === 0 ? '5xx from 0' : '—';
}

type ShortCounts = Map<string, Fields>;

function metricRow(m: Fields, judgement: StepJudgement, short: ShortCounts, minPoints: number | null): JudgementRow {
  const kind = text(m.metric) || 'custom';
  const name = text(m.name) || '(unnamed)';
  const classification = text(m.classification) as Classification | '';
  const failed = m.failed === true;
  const counts = isRecord(m.counts) ? m.counts : undefined;
  const canaryRequests = finite(at(counts, 'canary', 'requests'));
  const few = short.get(name);
  let state: MetricState = 'judged';
  let result: string = classification || 'no result';
  if (judgement.stoppedEarly === true && failed) {
    state = 'stopped-early';
    result = `${classification || 'Fail'}: stopped the step`;
  } else if (classification === 'Nodata' || classification === 'NodataFail' || (finite(at(m, 'canary', 'mean')) === null && !(canaryRequests !== null && canaryRequests > 0))) {
    state = 'no-data';
    result = `No data${classification === 'NodataFail' ? ' (fails)' : classification === 'Nodata' ? ' (not counted)' : classification ? ` (${classification})` : ''}`;
  } else if (few) {
    state = 'insufficient';
    const need = minPoints === null ? '' : ` of ${minPoints}`;
    result = `Not enough data (${formatCount(few.canary)}${need} canary, ${formatCount(few.baseline)}${need} baseline points)`;
  }
  return {
    name,
    group: text(m.group),
    critical: m.critical === true,
    canary: formatValue(kind, at(m, 'canary', 'mean')),
    baseline: formatValue(kind, at(m, 'baseline', 'mean')),
    // An error-count judge's ratio is of the error rates (canary 5xx rate / baseline's), not of the success rates.
    change: counts ? errorRatio(m.ratio, counts) : formatChange(m.ratio),
    counts: counts && { canary: countsText(counts.canary), baseline: countsText(counts.baseline) },
    classification,
    state,
    result,
    failed,
    groupScore: groupScore(judgement, text(m.group)),
    reason: text(m.reason),
  };
}

function notJudgedRow(name: string, stoppedEarly: boolean): JudgementRow {
  return {
    name,
    canary: '—',
    baseline: '—',
    change: '—',
    state: 'not-judged',
    result: stoppedEarly ? 'Not judged (the step stopped first)' : 'Not judged yet',
    groupScore: '—',
    reason: stoppedEarly ? 'the step stopped before its window ended, before this metric was judged' : 'not in this judgement',
  };
}

function evidenceView(raw: unknown): EvidenceView | undefined {
  if (!isRecord(raw)) return undefined;
  const gate = raw as Partial<EvidenceGate>;
  const minRequests = finite(gate.minRequests);
  const need = minRequests !== null && minRequests > 0 ? ` (the canary needs ${formatCount(minRequests)})` : '';
  const share = finite(gate.trafficShare);
  const minShare = finite(gate.minTrafficShare);
  const expected = finite(gate.expectedRatio);
  const checked = minShare !== null && minShare > 0;
  const minPoints = finite(gate.minPoints);
  const shortMetrics = list(gate.shortMetrics)
    .filter(isRecord)
    .map((s) => `${nameOf(s)}: ${formatCount(s.canary)} canary and ${formatCount(s.baseline)} baseline points${minPoints === null ? '' : ` (needs ${formatCount(minPoints)} each)`}`);
  return {
    passed: gate.passed === true,
    facts: [
      ...countLines(gate.requests, gate.errors, need),
      (share !== null || (expected !== null && checked)) && [
        'Canary traffic',
        `${share === null ? 'not measured' : `${formatShare(share)} of its expected share`} (${checked ? `at least ${formatShare(minShare)}` : 'not checked'}${expected === null ? '' : `; weights canary/baseline ${round(expected)}`})`,
      ],
      shortMetrics.length > 0 && ['Short metrics', shortMetrics.join('; ')],
    ],
    problems: list(gate.problems).map(text).filter(Boolean),
  };
}

function sequentialView(name: string, raw: unknown): SequentialView | undefined {
  if (!isRecord(raw)) return undefined;
  const s = raw as Partial<SequentialResult>;
  const e = finite(s.eValue);
  const max = finite(s.maxEValue);
  const threshold = finite(s.threshold);
  const crossed = s.crossed === true;
  const looks = finite(s.looks);
  // Both logs are finite and positive here, so the fill is a number in 0..1.
  const fill = crossed ? 1 : e !== null && threshold !== null && threshold > 1 && e > 1 ? Math.min(1, Math.log(e) / Math.log(threshold)) : 0;
  const note = crossed
    ? `crossed at interval ${finite(s.crossedAt) === null ? '?' : formatCount(s.crossedAt)}${looks === null ? '' : ` of ${formatCount(looks)}`}${max !== null ? `, peak ${formatE(max)}` : ''}`
    : [looks !== null && counted(looks, 'interval'), max !== null && e !== null && max > e && `peak ${formatE(max)}`].filter(Boolean).join(', ') || 'no intervals yet';
  return { name, eValue: formatE(e), threshold: formatE(threshold), fill, crossed, note };
}

/** A step's live progress (steps[i].progress), read as "maybe missing" like a judgement. */
export function liveView(raw: unknown): LiveView | undefined {
  if (!isRecord(raw)) return undefined;
  const p = raw as Partial<StepProgress>;
  const tests = list(p.metrics)
    .filter(isRecord)
    .map((m) => ({ intervals: finite(m.intervals), view: sequentialView(nameOf(m), { ...m, looks: m.intervals }) as SequentialView }));
  const looks = finite(p.looks);
  const requests = at(p, 'evidence', 'requests');
  const errors = at(p, 'evidence', 'errors');
  // The test nearest its threshold (the first of equals) speaks for the step.
  const lead = tests.reduce<(typeof tests)[number] | undefined>((best, t) => (!best || t.view.fill > best.view.fill ? t : best), undefined);
  const parts = [
    lead
      ? `${tests.length > 1 ? `${lead.view.name} ` : ''}e-value ${lead.view.eValue} / ${lead.view.threshold}${lead.intervals === null ? '' : ` after ${counted(lead.intervals, 'interval')}`}${lead.view.crossed ? ' (crossed)' : ''}`
      : looks !== null && `${counted(looks, 'look')} so far`,
    finite(at(requests, 'canary')) !== null && `canary ${counted(at(requests, 'canary'), 'request')}`,
  ].filter(Boolean);
  // "10:04:12 UTC" from the look's ISO time.
  const ms = Date.parse(text(p.at));
  const when = [!Number.isNaN(ms) && `at ${new Date(ms).toISOString().slice(11, 19)} UTC`, looks !== null && `look ${formatCount(looks)} of this step`].filter(Boolean).join(', ');
  return {
    summary: `live: ${parts.join(', ') || 'looking'}`,
    note: `From the last look${when ? ` (${when})` : ''} of the service replica that answered; it is kept in that replica's memory only, so another replica or a restart may not have it.`,
    sequential: tests.map((t) => t.view),
    facts: isRecord(requests) ? countLines(requests, errors) : [],
  };
}

function podEvents(metrics: Fields[]): string[][] {
  return metrics.flatMap((m) =>
    list(m.events)
      .filter(isRecord)
      .map((e: Partial<PodEvent>) => [text(e.pod) || '—', text(e.container) || '—', KIND_WORDS[text(e.kind)] || text(e.kind) || '—', text(e.reason) || '—', formatCount(e.count), text(m.name)]),
  );
}

/** The error budget of the sequential tests: "Alpha 0.01 split over 4 tested metrics by weight; ...". */
function budgetNote(raw: unknown): string | undefined {
  if (!isRecord(raw)) return undefined;
  const budget = raw;
  const tested = finite(budget.tested);
  // Since the weighted split each metric has its own share (`shares`); earlier judgements stored one `metricAlpha`.
  const metricAlpha = finite(budget.metricAlpha);
  const split = isRecord(budget.shares) ? ' by weight; a metric fails when its e-value reaches 1 / its share' : metricAlpha !== null && metricAlpha > 0 ? `; each fails at e-value ${formatE(1 / metricAlpha)}` : '';
  return `Alpha ${finite(budget.alpha) ?? '—'} split over ${tested === null ? '? tested metrics' : counted(tested, 'tested metric')}${split}.`;
}

/** "the sequential test of a, b crossed its threshold; the critical c failed": why a step stopped early. */
function stoppedEarlyNote(metrics: Fields[], rows: JudgementRow[], othersMissing: boolean): string {
  const bySequential = metrics.filter((m) => m.failed === true && at(m, 'sequential', 'crossed') === true).map((m) => text(m.name));
  const byGate = rows.filter((r) => r.state === 'stopped-early' && !bySequential.includes(r.name)).map((r) => r.name);
  const parts = [bySequential.length > 0 && `the sequential test of ${bySequential.join(', ')} crossed its threshold`, byGate.length > 0 && `the critical ${byGate.join(', ')} failed`].filter(Boolean);
  return `Stopped before the window ended: ${parts.join('; ') || 'a metric failed'}.${othersMissing ? ' The other metrics were not judged.' : ''}`;
}

const FORCED_ZERO: Record<string, string> = {
  critical: ' — forced to 0 by a failing critical metric',
  nodata: ' — forced to 0: half or more of the metrics have no data',
};

function judgedStep(step: number, judgement: StepJudgement, shape: PayloadShape): StepAnalysisView {
  const metrics = list(judgement.metrics).filter(isRecord);
  const short: ShortCounts = new Map();
  for (const s of list(at(judgement, 'evidence', 'shortMetrics')).filter(isRecord)) if (text(s.name)) short.set(text(s.name), s);
  const result = judgement.result;
  const stoppedEarly = judgement.stoppedEarly === true;
  const state: StepState = result === 'InsufficientData' ? 'insufficient' : stoppedEarly ? 'stopped-early' : 'judged';
  const rows = metrics.map((m) => metricRow(m, judgement, short, finite(at(judgement, 'evidence', 'minPoints'))));
  const missing = shape.metrics.filter((name) => !rows.some((r) => r.name === name));
  rows.push(...missing.map((name) => notJudgedRow(name, stoppedEarly)));

  const score = finite(judgement.score);
  const pass = finite(at(judgement, 'thresholds', 'pass'));
  const marginal = finite(at(judgement, 'thresholds', 'marginal'));
  const scoreText = score === null ? 'no score' : `score ${Number(score.toFixed(1))}`;
  const detail =
    (state === 'insufficient'
      ? `, no verdict (${scoreText} not counted${pass === null ? '' : `; pass ${pass}`})`
      : `, ${scoreText}${pass !== null || marginal !== null ? ` (pass ${pass ?? '—'}, marginal ${marginal ?? '—'})` : ''}`) + (FORCED_ZERO[text(judgement.forcedZero)] || '');

  const notes = [
    stoppedEarly && stoppedEarlyNote(metrics, rows, missing.length > 0),
    state === 'insufficient' &&
      'The step saw too little to judge: the service waits for more evidence (up to evidence.extendUpTo), then fails the step or holds the weights (evidence.onInsufficient). It never promotes without evidence.',
    metrics.length === 0 && missing.length === 0 && 'No metric was judged in this judgement.',
  ].filter((note): note is string => !!note);

  return {
    step,
    state,
    judgement,
    result: typeof result === 'string' ? result : undefined,
    resultText: state === 'insufficient' ? 'Not enough data' : resultWords(result),
    detail,
    notes,
    rows,
    evidence: evidenceView(judgement.evidence),
    sequentialNote: budgetNote(judgement.sequential),
    sequential: metrics.map((m) => sequentialView(nameOf(m), m.sequential)).filter((s): s is SequentialView => !!s),
    events: podEvents(metrics),
  };
}

/** The words of a step without a judgement: "Step 3: not analysed (no pause)". */
const UNJUDGED_WORDS: Partial<Record<StepState, string>> = {
  skipped: 'analysis skipped (skip analysis is set)',
  'not-analysed': 'not analysed (no pause)',
};

/**
 * Everything the execution view shows about analysis; undefined when the shift is not analysed.
 * `payload` (the stage's `context.payload`) adds the steps and metrics not judged yet. `live: false`
 * leaves out the running step's progress (the body is an old one: Orca stopped polling).
 */
export function analysisView(status: ShiftStatus | undefined, payload?: unknown, options: { live?: boolean } = {}): AnalysisView | undefined {
  if (!isRecord(status)) return undefined;
  const body: Fields = status;
  const shape = payloadShape(payload);
  const ended = body.status !== undefined && body.status !== 'RUNNING';
  const unjudged = (step: number, state: StepState): StepAnalysisView => ({
    step,
    state,
    resultText: UNJUDGED_WORDS[state] || (ended ? 'not judged (the shift ended first)' : 'not judged yet'),
    rows: [],
  });
  const steps: StepAnalysisView[] = [];
  list<StepRecord>(body.steps)
    .filter(isRecord)
    .forEach((s, i) => {
      const index = finite(s.index) ?? i + 1;
      const judgement = s.analysis;
      if (Array.isArray(at(judgement, 'metrics'))) return steps.push(judgedStep(index, judgement!, shape));
      // Progress means the step is analysed, whatever the payload says (or lacks).
      const live = !ended && options.live !== false ? liveView(s.progress) : undefined;
      if (live) return steps.push({ ...unjudged(index, 'not-judged'), live });
      if (!shape.analysed) return;
      const own = shape.steps[index - 1];
      const pause = finite(s.pauseSeconds);
      steps.push(unjudged(index, own?.skip ? 'skipped' : pause === 0 || (pause === null && own?.pause === false) ? 'not-analysed' : 'not-judged'));
    });
  const failed = analysisFailure(body);
  const overall = isRecord(body.analysis) && body.analysis;
  if (!steps.some((s) => s.judgement || s.live) && !overall && !failed && !shape.analysed) return undefined;
  const view: AnalysisView = { steps };
  if (overall) {
    const score = finite(overall.score);
    // Too little evidence gives no verdict: its score is not counted, so it is not shown as the result's score.
    const verdict = text(overall.result) === 'InsufficientData' ? 'Not enough data, no verdict' : `${resultWords(overall.result)}${score === null ? '' : `, score ${Number(score.toFixed(1))}`}`;
    // A running or cancelled shift whose current step was never judged: the result is an earlier step's, so say which.
    const judgedAt = finite(overall.step);
    const current = finite(body.currentStep);
    const currentView = steps.find((s) => s.step === current);
    const named = (body.status === 'RUNNING' || body.status === 'CANCELED') && judgedAt !== null && current !== null && judgedAt < current && !currentView?.judgement;
    const currentWords = currentView?.state === 'skipped' || currentView?.state === 'not-analysed' ? 'is not analysed' : body.status === 'RUNNING' ? 'not judged yet' : 'was not judged';
    view.overall = { score, result: text(overall.result), text: named ? `Step ${judgedAt}: ${verdict} (step ${current} ${currentWords})` : verdict };
  }
  return { ...view, failure: failed?.message, failureReason: failed?.reason };
}
