/**
 * One line a person reads in Deck and in the logs, e.g.
 *   step 1 failed analysis: canary 5xx rate 7.9% vs baseline 0.2% (critical); score 0/75
 * The engine appends what it did about it ("weights restored to ...").
 */
import type { MetricJudgement, StepJudgement } from './judge';

const MAX_DETAILS = 3;

function number(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 0.1) return String(Number(value.toPrecision(3)));
  return String(Number(value.toPrecision(2)));
}

/** Percentages with one decimal (7.9%), small ones with one significant digit (0.04%). */
const pct = (value: number) => `${value !== 0 && Math.abs(value) < 0.1 ? Number(value.toPrecision(1)) : Number(value.toFixed(1))}%`;
const change = (ratio: number | null) => (ratio === null ? '' : ` (${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(0)}%)`);

/** How one metric's canary and baseline read: "canary p99 latency 412 ms vs baseline 180 ms (+129%)". */
export function describeMetric(m: MetricJudgement): string {
  if (m.canary.mean === null) return `no data for canary ${m.name}`;
  if (m.baseline.mean === null && m.classification === 'NodataFail') return `no data for baseline ${m.name}`;
  const c = m.canary.mean;
  const b = m.baseline.mean;
  const both = (label: string, format: (v: number) => string, withChange = false) =>
    `canary ${label} ${format(c)} vs baseline ${b === null ? '(no data)' : format(b)}${withChange ? change(m.ratio) : ''}`;
  switch (m.metric) {
    case 'success-rate':
      return `canary 5xx rate ${pct(100 - c)} vs baseline ${b === null ? '(no data)' : pct(100 - b)}`;
    case 'latency-p50':
    case 'latency-p95':
    case 'latency-p99':
      return both(`${m.metric.slice('latency-'.length)} latency`, (v) => `${number(v)} ms`, true);
    case 'cpu':
      return both('CPU', (v) => `${number(v)} cores`, true);
    case 'memory':
      return both('memory', (v) => `${number(v / 1048576)} MiB`, true);
    case 'restarts':
      return both('restarts', number);
    case 'readiness':
      return both('ready pods', pct);
    case 'oom-killed':
      return both('OOM-killed containers', number);
    default:
      return both(m.name, number, true);
  }
}

export function describeJudgement(judgement: StepJudgement, stepNumber: number): string {
  const score = `score ${number(judgement.score)}/${judgement.thresholds.pass}`;
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
  if (judgement.result === 'Pass') return `step ${stepNumber} passed analysis: ${because}${score}`;
  if (judgement.passed) return `step ${stepNumber} analysis marginal: ${because}${score} (at least ${judgement.thresholds.marginal} continues; the last analysed step must reach ${judgement.thresholds.pass})`;
  const finalNote = judgement.result === 'Marginal' ? ` (the last analysed step must reach ${judgement.thresholds.pass})` : '';
  return `step ${stepNumber} failed analysis: ${because}${score}${finalNote}`;
}
