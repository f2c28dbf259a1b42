/**
 * One line a person reads in Deck and in the logs, e.g.
 *   step 1 failed analysis: canary 5xx rate 7.9% vs baseline 0.2% (critical); score 0/75
 * The engine appends what it did about it ("weights restored to ...").
 */
import type { PodEvent } from './evidence';
import { formatE } from './format';
import type { MetricJudgement, StepJudgement } from './judge';

const MAX_DETAILS = 3;

function number(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 0.1) return String(Number(value.toPrecision(3)));
  return String(Number(value.toPrecision(2)));
}

/** Percentages with one decimal (7.9%), those under 1% with two significant digits (0.13%, 0.04%). */
const pct = (value: number) => `${value !== 0 && Math.abs(value) < 1 ? Number(value.toPrecision(2)) : Number(value.toFixed(1))}%`;
const change = (ratio: number | null) => (ratio === null ? '' : ` (${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(0)}%)`);

/** How one metric's canary and baseline read: "canary p99 latency 412 ms vs baseline 180 ms (+129%)". */
export function describeMetric(m: MetricJudgement): string {
  // Stored judgements are plain JSON: a summary may lack `mean` (older or partial records).
  const c = typeof m.canary?.mean === 'number' ? m.canary.mean : null;
  const b = typeof m.baseline?.mean === 'number' ? m.baseline.mean : null;
  if (m.events && m.events.length > 0) return describeEvents(m.events);
  if (m.counts && m.counts.canary.requests > 0) return describeCounts(m);
  if (c === null) return `no data for canary ${m.name}`;
  if (b === null && m.classification === 'NodataFail') return `no data for baseline ${m.name}`;
  const both = (label: string, format: (v: number) => string, withChange = false) =>
    `canary ${label} ${format(c)} vs baseline ${b === null ? '(no data)' : format(b)}${withChange ? change(m.ratio) : ''}`;
  switch (m.metric) {
    case 'success-rate':
      return `canary 5xx rate ${pct(100 - c)} vs baseline ${b === null ? '(no data)' : pct(100 - b)}${sequentialNote(m)}`;
    case 'latency-p50':
    case 'latency-p95':
    case 'latency-p99':
      return both(`${m.metric.slice('latency-'.length)} latency`, (v) => `${number(v)} ms`, true) + sequentialNote(m);
    case 'cpu':
      return both('CPU', (v) => `${number(v)} cores`, true) + sequentialNote(m);
    case 'memory':
      return both('memory', (v) => `${number(v / 1048576)} MiB`, true) + sequentialNote(m);
    case 'restarts':
      return both('restarts', number);
    case 'readiness':
      return both('ready pods', pct);
    case 'oom-killed':
      return both('OOM-killed containers', number);
    default:
      return both(m.name, number, true) + sequentialNote(m);
  }
}

/** " (e-value 512 >= 400 after 9 intervals)" when a sequential test crossed. */
function sequentialNote(m: MetricJudgement): string {
  const s = m.sequential;
  return s?.crossed ? ` (e-value ${formatE(s.maxEValue)} >= ${formatE(s.threshold)} after ${s.crossedAt ?? s.looks} intervals)` : '';
}

/** "canary 5xx 54 of 6,012 requests (0.9%) vs baseline 6 of 5,990 (0.1%)" */
function describeCounts(m: MetricJudgement): string {
  const { canary, baseline } = m.counts as NonNullable<MetricJudgement['counts']>;
  const rate = (errors: number, requests: number) => pct((100 * errors) / requests);
  const base = baseline.requests > 0 ? `${baseline.errors} of ${count(baseline.requests)} (${rate(baseline.errors, baseline.requests)})` : '(no requests)';
  return `canary 5xx ${canary.errors} of ${count(canary.requests)} requests (${rate(canary.errors, canary.requests)}) vs baseline ${base}${sequentialNote(m)}`;
}

const count = (n: number) => n.toLocaleString('en-US');
const KIND_WORDS: Record<PodEvent['kind'], string> = { restart: 'restarted', 'oom-kill': 'OOM-killed', 'not-ready': 'not ready' };

/** "pod checkout-canary-7d9-x2 container app restarted 3 times (CrashLoopBackOff)" for the first events. */
export function describeEvents(events: readonly PodEvent[]): string {
  const shown = events.slice(0, 2).map((e) => {
    const times = e.kind === 'not-ready' ? (e.count > 1 ? ` at ${e.count} looks` : '') : ` ${e.count === 1 ? 'once' : `${e.count} times`}`;
    return `canary pod ${e.pod}${e.container ? ` container ${e.container}` : ''} ${KIND_WORDS[e.kind]}${times}${e.reason ? ` (${e.reason})` : ''}`;
  });
  if (events.length > 2) shown.push(`${events.length - 2} more`);
  return shown.join(', ');
}

export function describeJudgement(judgement: StepJudgement, stepNumber: number): string {
  const score = `score ${number(judgement.score)}/${judgement.thresholds.pass}`;
  if (judgement.result === 'InsufficientData') {
    const problems = judgement.evidence?.problems ?? [];
    return `step ${stepNumber} has too little evidence to judge: ${problems.length > 0 ? problems.join('; ') : 'not enough data'}`;
  }
  const failing = judgement.metrics.filter((m) => m.failed).sort((a, b) => Number(b.critical) - Number(a.critical));
  const details = failing.slice(0, MAX_DETAILS).map((m) => {
    const checks = judgement.failedChecks?.[m.name] ?? 0;
    // One failing check of a critical metric is the default fail-fast: only longer streaks are told.
    const streak = checks > 1 ? ` (failed ${checks} checks in a row)` : '';
    return `${describeMetric(m)}${m.critical ? ' (critical)' : ''}${streak}`;
  });
  if (failing.length > MAX_DETAILS) details.push(`and ${failing.length - MAX_DETAILS} more`);
  if (judgement.forcedZero === 'nodata') details.push('half or more of the metrics have no data');
  const because = details.length > 0 ? `${details.join(', ')}; ` : '';
  if (judgement.stoppedEarly) return `step ${stepNumber} failed analysis before its window ended: ${because}${score}`;
  if (judgement.result === 'Pass') return `step ${stepNumber} passed analysis: ${because}${score}`;
  if (judgement.passed) return `step ${stepNumber} analysis marginal: ${because}${score} (at least ${judgement.thresholds.marginal} continues; the last analysed step must reach ${judgement.thresholds.pass})`;
  const finalNote = judgement.result === 'Marginal' ? ` (the last analysed step must reach ${judgement.thresholds.pass})` : '';
  return `step ${stepNumber} failed analysis: ${because}${score}${finalNote}`;
}
