/**
 * Runs the analysis of a shift's current step (I/O; the decisions are pure, in core's judge.ts and
 * transitions.ts). Called from the scheduler's timer path, never from a poll, so a slow Prometheus
 * never delays a status answer. A step is looked at:
 * - when its window opens (pod metrics only: restarts and OOM kills count from the pod list then);
 * - every interval from one interval into the window until its end: window start..now is read and
 *   judged with `midWindow`, where only what may stop a step counts (a sequential test that crossed,
 *   a critical threshold or pod metric that fails; judge.ts decides). A stop is recorded at once
 *   (TERMINAL, weights restored or held), with `stoppedEarly` and only the metrics that stopped it.
 *   Read errors mid-window are left to the next interval;
 * - at the window's end: every metric over exactly the window, judged and recorded in one guarded
 *   write (pass: next step; fail: restore or hold). If the step saw too little to judge
 *   (InsufficientData), it waits for more: every interval the window grows to now, until
 *   `evidence.extendUpTo` past its end; then the InsufficientData judgement is recorded and the
 *   engine ends the shift (ANALYSIS_INSUFFICIENT_DATA, never promoted).
 * The persisted judgement is the guard against judging twice (the write re-checks it under the
 * engine's mutex, and the guarded patch settles a race with another replica).
 *
 * Progress: every look that judged without settling the step (mid-window, and while waiting for
 * evidence) leaves its summary in this replica's memory (`progressOf`): each tested metric's e-value
 * and the request and 5xx totals so far. The status body this replica serves shows it as
 * `steps[i].progress`; nothing of it is written to the cluster.
 *
 * Outages: a source that does not answer is retried every interval until the judgement's due time
 * (the window's end, or the end of the wait for evidence) plus OUTAGE_GRACE_INTERVALS intervals (at
 * least MIN_OUTAGE_GRACE_SECONDS); after that the step ends TERMINAL "analysis could not run" (never
 * promote on missing data). `nodata: wait` metrics are retried the same way, then judged (missing
 * data fails them).
 */
import {
  ANALYSIS_DEFAULTS,
  IntervalCounts,
  MetricSamples,
  NormalizedAnalysis,
  NormalizedMetric,
  NormalizedShiftSpec,
  POD_STATUS_METRICS,
  PodEvent,
  ScopeName,
  StepEvidence,
  StepJudgement,
  StepProgress,
  alignedCounts,
  analysedDestinations,
  evidenceExtensionSeconds,
  judgeStep,
  renderQuery,
  renderRequestCountQuery,
  sequentiallyTested,
  totals,
} from '@istio-shift/core';
import { ShiftError } from '../engine/errors';
import { ShiftEngine, ShiftRef } from '../engine/engine';
import { ShiftRecord } from '../engine/record';
import { awaitingJudgement } from '../engine/transitions';
import { PodStatusValues, podStatusValues } from './pod-status';
import { MetricsError, MetricsProvider, PodReader, PodState, QueryWindow, RangeResult, Sample } from './provider';
import { MetricsSources } from './sources';

export const OUTAGE_GRACE_INTERVALS = 3;
export const MIN_OUTAGE_GRACE_SECONDS = 6;

export interface AnalysisWindow {
  stepIndex: number;
  /** ms since epoch */
  start: number;
  end: number;
  intervalSeconds: number;
  /** How long an outage or missing data is retried past the judgement's due time (ms). */
  graceMs: number;
  /** The end of the wait for evidence: `end` + evidenceExtensionSeconds (ms since epoch). */
  extendUntil: number;
}

/**
 * Records written before sequential testing and the evidence gate existed have no mode, alpha or
 * evidence in their stored spec. Such a shift goes on as it was created: Kayenta's fixed judgement
 * and no evidence gate (its pipeline never asked for one, and a running step should not start
 * waiting for requests it was never going to count).
 */
export function effectiveAnalysis(analysis: NormalizedAnalysis): NormalizedAnalysis {
  const stored: Partial<NormalizedAnalysis> = analysis;
  if (stored.mode && stored.alpha !== undefined && stored.evidence) return analysis;
  return {
    ...analysis,
    mode: stored.mode ?? 'fixed',
    alpha: stored.alpha ?? ANALYSIS_DEFAULTS.alpha,
    evidence: stored.evidence ?? { minRequests: 0, minTrafficShare: 0, minPoints: 0, extendSeconds: 0, onInsufficient: 'fail' },
  };
}

/** The window of the current step when it is analysed and not judged yet. */
export function pendingWindow(record: ShiftRecord): AnalysisWindow | undefined {
  if (record.phase !== 'RUNNING' || !record.spec.analysis || !awaitingJudgement(record)) return undefined;
  const stepIndex = record.currentStep - 1;
  const step = record.spec.analysis.steps[stepIndex];
  const times = record.stepTimes[stepIndex];
  if (!step || !times?.appliedAt || !times.pauseUntil) return undefined;
  const start = Date.parse(times.appliedAt) + step.warmupSeconds * 1000;
  const end = Date.parse(times.pauseUntil);
  const grace = Math.max(MIN_OUTAGE_GRACE_SECONDS, OUTAGE_GRACE_INTERVALS * step.intervalSeconds);
  const extension = evidenceExtensionSeconds(effectiveAnalysis(record.spec.analysis), step);
  return { stepIndex, start, end, intervalSeconds: step.intervalSeconds, graceMs: grace * 1000, extendUntil: end + extension * 1000 };
}

const isPodMetric = (m: NormalizedMetric) => (POD_STATUS_METRICS as readonly string[]).includes(m.metric);
/** Error-count metrics are judged from the request counts: they have no query of their own. */
const isErrorsMetric = (m: NormalizedMetric) => m.judge.type === 'errors';
const hasOwnQuery = (m: NormalizedMetric) => !isPodMetric(m) && !isErrorsMetric(m);
const hasPodMetric = (analysis: NormalizedAnalysis) => analysis.metrics.some(isPodMetric);
/** The window's request and 5xx counts: for the evidence gate, and for error-count metrics. */
const needsCounts = (analysis: NormalizedAnalysis) => analysis.evidence.minRequests > 0 || analysis.evidence.minTrafficShare > 0 || analysis.metrics.some(isErrorsMetric);

/**
 * What a look before the window's end reads: the metrics that may stop the step early (as judge.ts
 * decides: sequentially tested ones, critical threshold and pod metrics) and every pod metric
 * (readiness is sampled at each look). Nothing in fixed mode without critical thresholds: no look.
 */
function midWindowMetrics(analysis: NormalizedAnalysis): NormalizedMetric[] {
  const tested = sequentiallyTested(analysis);
  return analysis.metrics.filter((m) => isPodMetric(m) || tested.includes(m) || (m.critical && m.judge.type === 'threshold'));
}

/** When the runner next has work for this shift (ms since epoch), for the scheduler's timer. */
export function nextAnalysisCheck(record: ShiftRecord, now: number): number | undefined {
  const window = pendingWindow(record);
  if (!window || !record.spec.analysis) return undefined;
  const analysis = effectiveAnalysis(record.spec.analysis);
  const interval = window.intervalSeconds * 1000;
  // Looks keep to a grid (from + k intervals), so timers that fire late do not shift later looks.
  const next = (from: number) => from + (Math.floor((now - from) / interval) + 1) * interval;
  // Past the window's end: every interval while an outage, missing data or too little evidence
  // waits, and a look when the wait for evidence ends.
  if (now >= window.end) return Math.min(next(window.end), now < window.extendUntil ? window.extendUntil : Infinity);
  if (midWindowMetrics(analysis).length === 0) return window.end;
  // Pod status counts from the pod list taken when the window opens: the first look is then.
  if (now < window.start) return hasPodMetric(analysis) ? window.start : Math.min(window.end, window.start + interval);
  return Math.min(window.end, next(window.start));
}

const keyOf = (ref: ShiftRef) => `${ref.account}/${ref.namespace}/${ref.virtualService}/${ref.id}`;
type SampleSet = Record<string, MetricSamples>;
const SCOPES: ScopeName[] = ['canary', 'baseline'];
const perScope = <T>(make: () => T): Record<ScopeName, T> => ({ canary: make(), baseline: make() });

/**
 * What this replica remembers of a shift's current step between looks. Only its own looks: a
 * replica that takes a step over (restart, failover) counts restarts and OOM kills from the first
 * pod list it reads, and has the readiness samples of its own looks since then (at least the one it
 * judges at). That can only miss a failure, never invent one.
 */
interface StepMemory {
  stepIndex: number;
  /** The pod lists restarts and OOM kills count from: the first this replica read in the window. */
  podsAtStart: Partial<Record<ScopeName, PodState[]>>;
  /** A Deployment's selector cannot change (apps/v1): read once per step. */
  selectors: Partial<Record<ScopeName, Record<string, string>>>;
  /** Readiness percent, one sample per look. */
  readiness: Record<ScopeName, number[]>;
  /** Pods (and containers) found not ready, with the number of looks they were not ready at. */
  notReady: Record<ScopeName, Map<string, PodEvent>>;
  /**
   * The window's own judgement was InsufficientData: the following looks read window start..now.
   * A replica that takes over finds that out again with its first judgement of the window.
   */
  extending: boolean;
  /** Looks that judged the step without settling it, and what the last of them saw. */
  looks: number;
  progress?: StepProgress;
}

/** One look at a step: everything the reads and the decision need. */
interface Look {
  ref: ShiftRef;
  record: ShiftRecord;
  analysis: NormalizedAnalysis;
  window: AnalysisWindow;
  now: number;
  memory: StepMemory;
}

/** What one look read: per-metric samples, and the counts, weights and pod events for the judge. */
interface StepData {
  samples: SampleSet;
  evidence: StepEvidence;
}

export interface AnalysisRunnerOptions {
  engine: ShiftEngine;
  sources: MetricsSources;
  /** The pod reader of an account (its kubeconfig), for restarts, readiness and OOM kills. */
  podReaderFor?(account: string): PodReader | undefined;
  log: { warn(message: string, fields?: Record<string, unknown>): void };
  now?: () => number;
}

export class AnalysisRunner {
  private readonly running = new Set<string>();
  /** Per shift: what this replica saw of its current step. */
  private readonly memory = new Map<string, StepMemory>();
  private readonly now: () => number;

  constructor(private readonly options: AnalysisRunnerOptions) {
    this.now = options.now ?? Date.now;
  }

  nextCheck(record: ShiftRecord, now: number): number | undefined {
    return nextAnalysisCheck(record, now);
  }

  /** A shift that ended (cancelled, abandoned, another writer) mid-step: its memory goes. */
  forget(ref: ShiftRef): void {
    this.memory.delete(keyOf(ref));
  }

  /**
   * What this replica's last look at the shift's current step saw, with the step's index (0-based),
   * for the status body it serves; undefined before its first look and after the step settled here.
   */
  progressOf(record: Pick<ShiftRecord, 'id' | 'spec'>): { stepIndex: number; progress: StepProgress } | undefined {
    const { account, namespace, virtualService } = record.spec;
    const memory = this.memory.get(keyOf({ account, namespace, virtualService, id: record.id }));
    return memory?.progress ? { stepIndex: memory.stepIndex, progress: memory.progress } : undefined;
  }

  /** Does whatever analysis work is due for the shift; one run per shift at a time on this replica. */
  async check(ref: ShiftRef): Promise<void> {
    const key = keyOf(ref);
    if (this.running.has(key)) return;
    this.running.add(key);
    try {
      const record = await this.options.engine.read(ref);
      const window = record && pendingWindow(record);
      if (!record || !window || !record.spec.analysis) {
        this.memory.delete(key);
        return;
      }
      const now = this.now();
      if (now < window.start) return;
      const look: Look = { ref, record, analysis: effectiveAnalysis(record.spec.analysis), window, now, memory: this.memoryOf(key, window.stepIndex) };
      if (now < window.end) await this.lookMidWindow(look);
      else if (await this.judge(look)) this.memory.delete(key);
    } finally {
      this.running.delete(key);
    }
  }

  private memoryOf(key: string, stepIndex: number): StepMemory {
    let memory = this.memory.get(key);
    if (!memory || memory.stepIndex !== stepIndex) {
      memory = { stepIndex, podsAtStart: {}, selectors: {}, readiness: perScope(() => []), notReady: perScope(() => new Map()), extending: false, looks: 0 };
      this.memory.set(key, memory);
    }
    return memory;
  }

  /** A look before the window's end: records a stop, if the judge finds one. */
  private async lookMidWindow(look: Look): Promise<void> {
    const metrics = midWindowMetrics(look.analysis);
    // The look when the window opens only takes the pod lists (and a readiness sample).
    const judging = look.now >= look.window.start + look.window.intervalSeconds * 1000;
    const read = judging ? metrics : metrics.filter(isPodMetric);
    if (read.length === 0) return;
    let data: StepData;
    try {
      data = await this.read(look, read, look.now, read.some(isErrorsMetric));
    } catch (error) {
      // Mid-window trouble is retried at the next interval; only the judgement at the end acts on it.
      if (error instanceof MetricsError || error instanceof ShiftError) return;
      throw error;
    }
    if (!judging) return;
    const judgement = judgeStep(look.analysis, data.samples, { step: look.window.stepIndex, evidence: data.evidence, midWindow: true });
    if (!judgement.passed) {
      await this.options.engine.recordJudgement(look.ref, look.window.stepIndex, judgement);
      this.memory.delete(keyOf(look.ref));
      return;
    }
    // A passing mid-window judgement holds no metrics: the tests' state comes from a full judgement
    // of the same data (only for the progress shown; nothing decides on it).
    const tested = sequentiallyTested(look.analysis).length > 0;
    this.remember(look, data, tested ? judgeStep(look.analysis, data.samples, { step: look.window.stepIndex, evidence: data.evidence }) : undefined);
  }

  /** Keeps what a look that did not settle the step saw, for the status body (`progressOf`). */
  private remember(look: Look, data: StepData, judgement: StepJudgement | undefined): void {
    const { memory } = look;
    memory.looks++;
    memory.progress = stepProgress(new Date(look.now), memory.looks, judgement, data.evidence);
  }

  /**
   * The judgement from the window's end on. Returns whether the step is settled (recorded, or ended
   * as unavailable); false while it retries or waits for evidence.
   */
  private async judge(look: Look): Promise<boolean> {
    const { analysis, window, memory, now } = look;
    // The window's own judgement covers exactly the window; while waiting for evidence it grows to now.
    const until = memory.extending ? Math.min(now, window.extendUntil) : window.end;
    const giveUpAt = (memory.extending ? window.extendUntil : window.end) + window.graceMs;
    let data: StepData;
    try {
      data = await this.read(look, analysis.metrics, until, needsCounts(analysis));
    } catch (error) {
      return this.readFailed(look, error, giveUpAt);
    }
    const waiting = analysis.metrics.filter((m) => m.nodata === 'wait' && lacksData(m, data));
    if (waiting.length > 0 && now < giveUpAt) return false;
    const judgement = judgeStep(analysis, data.samples, { step: window.stepIndex, evidence: data.evidence });
    if (judgement.result === 'InsufficientData') {
      const windowOnly = !memory.extending;
      memory.extending = true;
      if (now < window.extendUntil) {
        this.remember(look, data, judgement);
        return false;
      }
      // Judged only after the whole wait (this replica started late): over all of it, not the window alone.
      if (windowOnly && window.extendUntil > window.end) return this.judge(look);
    }
    await this.options.engine.recordJudgement(look.ref, window.stepIndex, judgement);
    return true;
  }

  /** A read at judgement time failed: retry an outage within the grace, else end the step as unavailable. */
  private async readFailed(look: Look, error: unknown, giveUpAt: number): Promise<boolean> {
    const { ref, window, now } = look;
    if (error instanceof ShiftError) {
      // The source left the configuration (or the account lost it) since the create.
      await this.options.engine.analysisUnavailable(ref, window.stepIndex, error.message);
      return true;
    }
    if (!(error instanceof MetricsError)) throw error;
    if (error.retryable && now < giveUpAt) {
      this.options.log.warn('analysis metrics unavailable; will retry', { shift: ref.id, source: error.source, error: error.message });
      return false;
    }
    const why = error.retryable ? `${error.message} (still failing ${Math.round((now - window.end) / 1000)}s after the window ended)` : error.message;
    await this.options.engine.analysisUnavailable(ref, window.stepIndex, `${error.kind === 'invalid-query' ? 'the metrics source rejected a query: ' : ''}${why}`);
    return true;
  }

  /**
   * One range query per metric with a query of its own and scope over window start..`until`, the
   * request and 5xx counts per scope when `counts`, and one pod list read per scope when a pod metric
   * is read.
   */
  private async read(look: Look, metrics: NormalizedMetric[], until: number, counts: boolean): Promise<StepData> {
    const { analysis, window, record } = look;
    const range: QueryWindow = { start: new Date(window.start), end: new Date(until), stepSeconds: window.intervalSeconds };
    const provider = () => this.options.sources.forAccount(record.spec.account, analysis.source);
    const [series, requests, pods] = await Promise.all([
      Promise.all(metrics.filter(hasOwnQuery).map(async (m) => [m.name, await metricSeries(provider(), analysis, m, range)] as const)),
      counts ? requestCounts(provider(), analysis, range) : undefined,
      metrics.some(isPodMetric) ? this.readPods(look) : undefined,
    ]);
    const samples: SampleSet = Object.fromEntries(series);
    for (const metric of metrics.filter(isPodMetric)) samples[metric.name] = podSamples(metric, pods, look.memory);
    const evidence: StepEvidence = {};
    if (requests) evidence.requests = requests;
    const weights = stepWeights(record, window.stepIndex);
    if (weights) evidence.weights = weights;
    if (pods) evidence.podEvents = { canary: podEvents(pods.canary, look.memory.notReady.canary), baseline: podEvents(pods.baseline, look.memory.notReady.baseline) };
    return { samples, evidence };
  }

  /** Both scopes' pod status at this look, against the lists this replica took when the window opened. */
  private async readPods(look: Look): Promise<Record<ScopeName, PodStatusValues> | undefined> {
    const reader = this.options.podReaderFor?.(look.record.spec.account);
    if (!reader) return undefined;
    const [canary, baseline] = await Promise.all(SCOPES.map((scope) => this.readScopePods(reader, look, scope)));
    return { canary, baseline };
  }

  private async readScopePods(reader: PodReader, look: Look, scopeName: ScopeName): Promise<PodStatusValues> {
    const { memory } = look;
    const scope = look.analysis.scopes[scopeName];
    const selector = scope.podSelector ?? (memory.selectors[scopeName] ??= await reader.workloadSelector(scope.namespace, scope.workload));
    const pods = await reader.listPods(scope.namespace, selector);
    const atStart = (memory.podsAtStart[scopeName] ??= pods);
    const values = podStatusValues(atStart, pods);
    if (values.readinessPercent !== undefined) memory.readiness[scopeName].push(values.readinessPercent);
    for (const event of values.events.filter((e) => e.kind === 'not-ready')) {
      const id = `${event.pod}/${event.container ?? ''}`;
      const seen = memory.notReady[scopeName].get(id);
      memory.notReady[scopeName].set(id, { ...event, count: (seen?.count ?? 0) + 1 });
    }
    return values;
  }
}

/** One metric's samples of both scopes, with their times so the judge pairs them by interval. */
async function metricSeries(provider: MetricsProvider, analysis: NormalizedAnalysis, metric: NormalizedMetric, range: QueryWindow): Promise<MetricSamples> {
  const [canary, baseline] = await Promise.all(
    SCOPES.map(async (scopeName) => pointsOf(await provider.rangeQuery(renderQuery(metric, analysis.scopes[scopeName], scopeName, range.stepSeconds) as string, range))),
  );
  return { canary: canary.map((s) => s.value), baseline: baseline.map((s) => s.value), times: { canary: canary.map((s) => s.time), baseline: baseline.map((s) => s.time) } };
}

const pointsOf = (result: RangeResult): Sample[] => (result.kind === 'series' ? result.samples : []);

/** Requests and 5xx per interval of both scopes (four range queries), on the same intervals. */
async function requestCounts(provider: MetricsProvider, analysis: NormalizedAnalysis, range: QueryWindow): Promise<{ canary: IntervalCounts; baseline: IntervalCounts }> {
  const [canary, baseline] = await Promise.all(
    SCOPES.map(async (scopeName) => {
      const [all, errors] = await Promise.all([false, true].map((errorsOnly) => provider.rangeQuery(renderRequestCountQuery(analysis.scopes[scopeName], range.stepSeconds, errorsOnly), range)));
      return { requests: pointsOf(all), errors: pointsOf(errors) };
    }),
  );
  const times = [...new Set([...canary.requests, ...baseline.requests].map((s) => s.time))].sort((a, b) => a - b);
  return { canary: intervalCounts(times, canary.requests, canary.errors), baseline: intervalCounts(times, baseline.requests, baseline.errors) };
}

/**
 * A scope's counts at each of `times` (the intervals either scope has points for). Istio creates a
 * series with its first request of that kind: a scope without a point at some time had no
 * requests then (no traffic yet, or no 5xx at all), which is 0, not a gap. Both scopes on the same
 * intervals keep an idle canary's window from hiding the baseline's requests.
 */
export function intervalCounts(times: number[], requests: Sample[], errors: Sample[]): IntervalCounts {
  const at = (samples: Sample[]) => {
    const byTime = new Map(samples.map((s) => [s.time, s.value]));
    return times.map((t) => byTime.get(t) ?? 0);
  };
  return { requests: at(requests), errors: at(errors), times };
}

/** The current step's weights of the canary's and the baseline's destinations, for the traffic share. */
function stepWeights(record: ShiftRecord, stepIndex: number): StepEvidence['weights'] {
  const indexes = analysedDestinations(record.spec.destinations.length);
  const weights = record.spec.steps[stepIndex]?.weights;
  if (!indexes || !weights) return undefined;
  return { canary: weights[indexes.canary], baseline: weights[indexes.baseline] };
}

/** One pod status metric of both scopes: restarts and OOM kills at this look, readiness at every look. */
function podSamples(metric: NormalizedMetric, pods: Record<ScopeName, PodStatusValues> | undefined, memory: StepMemory): MetricSamples {
  const of = (scopeName: ScopeName): number[] => {
    const values = pods?.[scopeName];
    if (!values) return [];
    if (metric.metric === 'readiness') return [...memory.readiness[scopeName]];
    if (values.pods === 0) return [];
    return [metric.metric === 'restarts' ? values.restarts : values.oomKilled];
  };
  return { canary: of('canary'), baseline: of('baseline') };
}

/** A scope's pod events: restarts and OOM kills since the window opened, and every not-ready sighting. */
function podEvents(values: PodStatusValues, notReady: Map<string, PodEvent>): PodEvent[] {
  return [...values.events.filter((e) => e.kind !== 'not-ready'), ...notReady.values()];
}

/** A look's summary: each tested metric's e-process (from `judgement`) and the request and 5xx totals. */
export function stepProgress(at: Date, looks: number, judgement: StepJudgement | undefined, evidence: StepEvidence): StepProgress {
  const metrics = (judgement?.metrics ?? []).flatMap((m) =>
    m.sequential ? [{ name: m.name, eValue: m.sequential.eValue, maxEValue: m.sequential.maxEValue, threshold: m.sequential.threshold, crossed: m.sequential.crossed, intervals: m.sequential.looks }] : [],
  );
  let counts: StepProgress['evidence'] = null;
  if (evidence.requests) {
    const aligned = alignedCounts(evidence.requests);
    const canary = totals(aligned.canary);
    const baseline = totals(aligned.baseline);
    counts = { requests: { canary: canary.requests, baseline: baseline.requests }, errors: { canary: canary.errors, baseline: baseline.errors } };
  }
  return { at: at.toISOString(), looks, metrics, evidence: counts };
}

/** No data to judge `metric` on yet (for `nodata: wait`). */
function lacksData(metric: NormalizedMetric, data: StepData): boolean {
  if (isErrorsMetric(metric)) {
    const requests = data.evidence.requests;
    if (!requests) return true;
    const aligned = alignedCounts(requests);
    return totals(aligned.canary).requests === 0 || totals(aligned.baseline).requests === 0;
  }
  const samples = data.samples[metric.name];
  return !samples || samples.canary.length === 0 || samples.baseline.length === 0;
}

/** A query the create checks evaluate: `field` and `name` say which in the problem reported. */
interface PreflightQuery {
  field: string;
  name: string;
  scopeName: ScopeName;
  query: string;
}

/** Every query a judgement of this analysis runs, once per scope (pod metrics have none). */
function preflightQueries(analysis: NormalizedAnalysis): PreflightQuery[] {
  const own = analysis.metrics.flatMap((metric, i) =>
    hasOwnQuery(metric)
      ? SCOPES.map((scopeName) => {
          const field = `analysis.metrics[${i}]${metric.metric === 'custom' ? '.query' : ''}`;
          return { field, name: metric.name, scopeName, query: renderQuery(metric, analysis.scopes[scopeName], scopeName, analysis.intervalSeconds) as string };
        })
      : [],
  );
  if (!needsCounts(analysis)) return own;
  const counts = SCOPES.map((scopeName) => ({ field: 'analysis', name: 'request counts', scopeName, query: renderRequestCountQuery(analysis.scopes[scopeName], analysis.intervalSeconds, false) }));
  return [...own, ...counts];
}

/**
 * Create-time checks, before the VirtualService is touched: the source exists (422 naming
 * analysis.source) and the account may use it (403), and Prometheus accepts every rendered query
 * (one cheap evaluation at one instant per query and scope; a rejection is a 422 naming the metric).
 * Scopes that match no series are only knowable later (the nodata policy decides at judgement).
 */
export async function preflightAnalysis(spec: NormalizedShiftSpec, sources: MetricsSources): Promise<void> {
  if (!spec.analysis) return;
  const analysis = effectiveAnalysis(spec.analysis);
  const provider = sources.forAccount(spec.account, analysis.source);
  const now = new Date();
  const checks = preflightQueries(analysis).map(async ({ field, name, scopeName, query }) => {
    try {
      await provider.rangeQuery(query, { start: now, end: now, stepSeconds: analysis.intervalSeconds });
    } catch (error) {
      if (!(error instanceof MetricsError)) throw error;
      if (error.kind === 'invalid-query' || error.kind === 'ambiguous') {
        const message = `${field} (${name}, ${scopeName}): ${error.message}`;
        throw new ShiftError('invalid', message, [{ field, message }]);
      }
      throw new ShiftError('unavailable', `metrics source "${analysis.source}" cannot check ${field} (${name}) now: ${error.message}; retry when it answers`);
    }
  });
  // All at once, but the problem reported is the first in spec order (metric, then canary before baseline).
  const failed = (await Promise.allSettled(checks)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
