/**
 * Runs the analysis of a shift's current step (I/O; the decisions are pure, in judge.ts and
 * transitions.ts). Called from the scheduler's timer path, never from a poll, so a slow Prometheus
 * never delays a status answer:
 * - during the window (step start + warm-up .. pause end), every interval: the metrics with a
 *   `failAfterSamples` (critical ones: 1 by default), over window start..now; a metric that failed
 *   that many checks in a row ends the step at once (fail fast). A check where it passes resets its
 *   count; one without data neither counts nor resets (the data may still arrive). The counts live
 *   in this replica's memory: a restart starts them again, which only delays a fail-fast;
 * - once the window has ended: every metric over the whole window, one range query per metric and
 *   scope, judged and recorded in one guarded write (pass: next step; fail: restore or hold).
 * The persisted judgement is the guard against judging twice (the write re-checks it under the
 * engine's mutex, and the guarded patch settles a race with another replica).
 *
 * Outages: a source that does not answer is retried every interval until the window's end plus
 * OUTAGE_GRACE_INTERVALS intervals (at least MIN_OUTAGE_GRACE_SECONDS); after that the step ends
 * TERMINAL "analysis could not run" (never promote on missing data). `nodata: wait` metrics are
 * retried the same way, then judged (missing data fails them).
 */
import {
  MetricSamples,
  NormalizedAnalysis,
  NormalizedMetric,
  NormalizedShiftSpec,
  POD_STATUS_METRICS,
  ScopeName,
  judgeStep,
  renderQuery,
} from '@istio-shift/core';
import { ShiftError } from '../engine/errors';
import { ShiftEngine, ShiftRef } from '../engine/engine';
import { ShiftRecord } from '../engine/record';
import { awaitingJudgement } from '../engine/transitions';
import { podStatusValues } from './pod-status';
import { MetricsError, MetricsProvider, PodReader, PodState } from './provider';
import { MetricsSources } from './sources';

export const OUTAGE_GRACE_INTERVALS = 3;
export const MIN_OUTAGE_GRACE_SECONDS = 6;
/** Fail fast needs a few samples: the first check comes two intervals into the window. */
const FAIL_FAST_MIN_INTERVALS = 2;

export interface AnalysisWindow {
  stepIndex: number;
  /** ms since epoch */
  start: number;
  end: number;
  intervalSeconds: number;
  /** The last moment an outage or missing data is retried before the step ends (ms). */
  giveUpAt: number;
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
  return { stepIndex, start, end, intervalSeconds: step.intervalSeconds, giveUpAt: end + grace * 1000 };
}

/** Metrics checked during the window (fail fast): critical ones by default, others when asked. */
const checkedMidWindow = (analysis: NormalizedAnalysis) => analysis.metrics.filter((m) => m.failAfterSamples > 0);
const hasPodMetric = (analysis: NormalizedAnalysis) => analysis.metrics.some(isPodMetric);

/** When the runner next has work for this shift (ms since epoch), for the scheduler's timer. */
export function nextAnalysisCheck(record: ShiftRecord, now: number): number | undefined {
  const window = pendingWindow(record);
  if (!window || !record.spec.analysis) return undefined;
  const interval = window.intervalSeconds * 1000;
  // Pod status metrics count from the pod list taken when the window opens: look in at its start.
  if (now < window.start && hasPodMetric(record.spec.analysis)) return window.start;
  if (now < window.end && checkedMidWindow(record.spec.analysis).length > 0) {
    const first = window.start + FAIL_FAST_MIN_INTERVALS * interval;
    return Math.min(window.end, now < first ? first : now + interval);
  }
  // At the window's end, then every interval while an outage or missing data is retried.
  return now < window.end ? window.end : now + interval;
}

type SampleSet = Record<string, MetricSamples>;
type PodStatusValues = ReturnType<typeof podStatusValues>;
const SCOPES: ScopeName[] = ['canary', 'baseline'];
const isPodMetric = (m: NormalizedMetric) => (POD_STATUS_METRICS as readonly string[]).includes(m.metric);

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
  /** Pod lists taken at window start (per shift and step), so restarts count from there. */
  private readonly podsAtStart = new Map<string, PodState[]>();
  /** Consecutive failing mid-window checks per shift, step and metric. */
  private readonly failedChecks = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly options: AnalysisRunnerOptions) {
    this.now = options.now ?? Date.now;
  }

  nextCheck(record: ShiftRecord, now: number): number | undefined {
    return nextAnalysisCheck(record, now);
  }

  /** Does whatever analysis work is due for the shift; one run per shift at a time on this replica. */
  async check(ref: ShiftRef): Promise<void> {
    const key = `${ref.account}/${ref.namespace}/${ref.virtualService}/${ref.id}`;
    if (this.running.has(key)) return;
    this.running.add(key);
    try {
      const record = await this.options.engine.read(ref);
      const window = record && pendingWindow(record);
      if (!record || !window || !record.spec.analysis) {
        for (const k of this.podsAtStart.keys()) if (k.startsWith(`${key}/`)) this.podsAtStart.delete(k);
        for (const k of this.failedChecks.keys()) if (k.startsWith(`${key}/`)) this.failedChecks.delete(k);
        return;
      }
      const now = this.now();
      if (now < window.start) return;
      await this.snapshotPods(record, window, key);
      if (now < window.end) await this.failFast(ref, record, window, now, key);
      else await this.judge(ref, record, window, now, key);
    } finally {
      this.running.delete(key);
    }
  }

  private async failFast(ref: ShiftRef, record: ShiftRecord, window: AnalysisWindow, now: number, key: string): Promise<void> {
    const analysis = record.spec.analysis as NormalizedAnalysis;
    const checked = checkedMidWindow(analysis);
    if (checked.length === 0 || now < window.start + FAIL_FAST_MIN_INTERVALS * window.intervalSeconds * 1000) return;
    let samples: SampleSet;
    try {
      samples = await this.fetch(record.spec, analysis, checked, window, now, key);
    } catch (error) {
      // Mid-window trouble is retried at the next interval; only the end-of-window judgement acts on it.
      if (error instanceof MetricsError || error instanceof ShiftError) return;
      throw error;
    }
    const judgement = judgeStep({ ...analysis, metrics: checked }, samples, { step: window.stepIndex });
    const tripped = new Map<string, number>();
    for (const metric of checked) {
      const result = judgement.metrics.find((m) => m.name === metric.name);
      // Missing data mid-window may still arrive: it neither counts nor resets.
      if (!result || result.classification === 'NodataFail' || result.classification === 'Nodata') continue;
      const countKey = `${key}/${window.stepIndex}/${metric.name}`;
      const count = result.failed ? (this.failedChecks.get(countKey) ?? 0) + 1 : 0;
      this.failedChecks.set(countKey, count);
      if (count >= metric.failAfterSamples) tripped.set(metric.name, count);
    }
    if (tripped.size === 0) return;
    // The step's judgement is that of the metrics that tripped: each failed, so it fails.
    const failing = judgeStep({ ...analysis, metrics: checked.filter((m) => tripped.has(m.name)) }, samples, { step: window.stepIndex });
    if (failing.passed) return;
    await this.options.engine.recordJudgement(ref, window.stepIndex, { ...failing, failedChecks: Object.fromEntries(tripped) });
  }

  private async judge(ref: ShiftRef, record: ShiftRecord, window: AnalysisWindow, now: number, key: string): Promise<void> {
    const analysis = record.spec.analysis as NormalizedAnalysis;
    let samples: SampleSet;
    try {
      samples = await this.fetch(record.spec, analysis, analysis.metrics, window, window.end, key);
    } catch (error) {
      if (error instanceof ShiftError) {
        // The source left the configuration (or the account lost it) since the create.
        await this.options.engine.analysisUnavailable(ref, window.stepIndex, error.message);
        return;
      }
      if (!(error instanceof MetricsError)) throw error;
      if (error.retryable && now < window.giveUpAt) {
        this.options.log.warn('analysis metrics unavailable; will retry', { shift: ref.id, source: error.source, error: error.message });
        return;
      }
      const why = error.retryable ? `${error.message} (still failing ${Math.round((now - window.end) / 1000)}s after the window ended)` : error.message;
      await this.options.engine.analysisUnavailable(ref, window.stepIndex, `${error.kind === 'invalid-query' ? 'the metrics source rejected a query: ' : ''}${why}`);
      return;
    }
    const waiting = analysis.metrics.filter((m) => m.nodata === 'wait' && (samples[m.name].canary.length === 0 || samples[m.name].baseline.length === 0));
    if (waiting.length > 0 && now < window.giveUpAt) return;
    const judgement = judgeStep(analysis, samples, { step: window.stepIndex });
    await this.options.engine.recordJudgement(ref, window.stepIndex, judgement);
    this.podsAtStart.delete(`${key}/${window.stepIndex}/canary`);
    this.podsAtStart.delete(`${key}/${window.stepIndex}/baseline`);
    for (const metric of analysis.metrics) this.failedChecks.delete(`${key}/${window.stepIndex}/${metric.name}`);
  }

  /**
   * One range query per metric and scope over window start..end; the pod status metrics all come
   * from one pod read per scope.
   */
  private async fetch(spec: NormalizedShiftSpec, analysis: NormalizedAnalysis, metrics: NormalizedMetric[], window: AnalysisWindow, end: number, key: string): Promise<SampleSet> {
    const provider: MetricsProvider = this.options.sources.forAccount(spec.account, analysis.source);
    const range = { start: new Date(window.start), end: new Date(end), stepSeconds: window.intervalSeconds };
    const podReads = new Map<ScopeName, Promise<PodStatusValues | undefined>>();
    const podStatus = (scopeName: ScopeName) => {
      if (!podReads.has(scopeName)) podReads.set(scopeName, this.podStatus(spec.account, analysis.scopes[scopeName], `${key}/${window.stepIndex}/${scopeName}`));
      return podReads.get(scopeName) as Promise<PodStatusValues | undefined>;
    };
    const samples: SampleSet = {};
    await Promise.all(
      metrics.map(async (metric) => {
        const values = await Promise.all(
          SCOPES.map(async (scopeName) => {
            if (isPodMetric(metric)) return podMetricValue(metric, await podStatus(scopeName));
            const result = await provider.rangeQuery(renderQuery(metric, analysis.scopes[scopeName], scopeName, window.intervalSeconds) as string, range);
            return result.kind === 'series' ? result.samples.map((s) => s.value) : [];
          }),
        );
        samples[metric.name] = { canary: values[0], baseline: values[1] };
      }),
    );
    return samples;
  }

  /**
   * Takes the pod lists restarts are counted from, once per step, as soon as the window opens.
   * Without this the first list was taken at the first fail-fast check (two intervals in) or, with
   * no critical metric, at the window's end: restarts before then were never counted.
   * A failed read is left to the next check (which then takes the list).
   */
  private async snapshotPods(record: ShiftRecord, window: AnalysisWindow, key: string): Promise<void> {
    const analysis = record.spec.analysis as NormalizedAnalysis;
    if (!hasPodMetric(analysis)) return;
    await Promise.all(
      SCOPES.filter((scopeName) => !this.podsAtStart.has(`${key}/${window.stepIndex}/${scopeName}`)).map((scopeName) =>
        this.podStatus(record.spec.account, analysis.scopes[scopeName], `${key}/${window.stepIndex}/${scopeName}`).catch((error: unknown) => {
          if (!(error instanceof MetricsError)) throw error;
        }),
      ),
    );
  }

  /** The scope's pod status now, against the pod list taken when this replica first looked in the window. */
  private async podStatus(account: string, scope: NormalizedAnalysis['scopes']['canary'], key: string): Promise<PodStatusValues | undefined> {
    const reader = this.options.podReaderFor?.(account);
    if (!reader) return undefined;
    const selector = scope.podSelector ?? (await reader.workloadSelector(scope.namespace, scope.workload));
    const pods = await reader.listPods(scope.namespace, selector);
    if (!this.podsAtStart.has(key)) this.podsAtStart.set(key, pods);
    return podStatusValues(this.podsAtStart.get(key) as PodState[], pods);
  }
}

/** One pod status metric from a scope's pod status (no pods: no data). */
function podMetricValue(metric: NormalizedMetric, values: PodStatusValues | undefined): number[] {
  if (!values || values.pods === 0) return [];
  if (metric.metric === 'restarts') return [values.restarts];
  if (metric.metric === 'oom-killed') return [values.oomKilled];
  return values.readinessPercent === undefined ? [] : [values.readinessPercent];
}

/**
 * Create-time checks, before the VirtualService is touched: the source exists (422 naming
 * analysis.source) and the account may use it (403), and Prometheus accepts every rendered query
 * (one cheap evaluation at one instant per metric and scope; a rejection is a 422 naming the metric).
 * Scopes that match no series are only knowable later (the nodata policy decides at judgement).
 */
export async function preflightAnalysis(spec: NormalizedShiftSpec, sources: MetricsSources): Promise<void> {
  const analysis = spec.analysis;
  if (!analysis) return;
  const provider = sources.forAccount(spec.account, analysis.source);
  const now = new Date();
  const checks = analysis.metrics.flatMap((metric, i) =>
    isPodMetric(metric)
      ? []
      : SCOPES.map(async (scopeName) => {
          const query = renderQuery(metric, analysis.scopes[scopeName], scopeName, analysis.intervalSeconds) as string;
          try {
            await provider.rangeQuery(query, { start: now, end: now, stepSeconds: analysis.intervalSeconds });
          } catch (error) {
            if (!(error instanceof MetricsError)) throw error;
            const field = `analysis.metrics[${i}]${metric.metric === 'custom' ? '.query' : ''}`;
            if (error.kind === 'invalid-query' || error.kind === 'ambiguous') {
              const message = `${field} (${metric.name}, ${scopeName}): ${error.message}`;
              throw new ShiftError('invalid', message, [{ field, message }]);
            }
            throw new ShiftError('unavailable', `metrics source "${analysis.source}" cannot check ${field} (${metric.name}) now: ${error.message}; retry when it answers`);
          }
        }),
  );
  // All at once, but the problem reported is the first in spec order (metric, then canary before baseline).
  const failed = (await Promise.allSettled(checks)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
