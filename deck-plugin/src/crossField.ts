/**
 * Cross-field problems between a step's pause and the analysis timing (warm-up, interval). The
 * shared validator reports them at `steps[i].pause` in the API's words, naming
 * `steps[i].analysis.warmup`, which the form has no input for. The form words them from the
 * payload's own values and shows the same text under the step's pause, under the analysis warm-up
 * (when the warm-up is the analysis block's), and in Deck's stage warnings (the validateFn's errors).
 */
import type { Problem } from '@istio-shift/core';
import { ANALYSIS_DEFAULTS, formatDuration, parseDurationSeconds } from '@istio-shift/core';

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj | undefined => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Obj) : undefined);
const seconds = (value: unknown, fallback: string): number | undefined =>
  parseDurationSeconds(typeof value === 'string' || typeof value === 'number' ? value : fallback);

/** True for the validator's pause-vs-analysis problem of a step. */
export function isPauseTimingProblem(problem: Problem): boolean {
  return /^steps\[\d+\]\.pause$/.test(problem.field) && (problem.code === 'analysis' || problem.code === undefined) && /analysis (warm-up|window)/.test(problem.message);
}

/** The form's words for a step whose pause does not fit the analysis warm-up and two intervals; undefined when it fits. */
export function pauseTimingText(payload: unknown, index: number): string | undefined {
  const spec = obj(payload) || {};
  const analysis = obj(spec.analysis);
  const step = Array.isArray(spec.steps) ? obj(spec.steps[index]) : undefined;
  if (!analysis || !step) return undefined;
  // The step's own warm-up/interval overrides (set in the stage JSON; the form has no input for them).
  const own = obj(step.analysis) || {};
  const pause = seconds(step.pause, '');
  const warmup = seconds(own.warmup ?? analysis.warmup, ANALYSIS_DEFAULTS.warmup);
  const interval = seconds(own.interval ?? analysis.interval, ANALYSIS_DEFAULTS.interval);
  if (!pause || warmup === undefined || interval === undefined || own.skip === true) return undefined;
  const n = index + 1;
  const timing = (what: string, value: number, where = '') =>
    own[what === 'warm-up' ? 'warmup' : what] !== undefined ? `step ${n}'s own analysis ${what} (${formatDuration(value)}${where})` : `the analysis ${what} (${formatDuration(value)})`;
  const warmupWords = timing('warm-up', warmup, ', set in the stage JSON');
  if (pause < warmup) {
    return `Step ${n} pauses ${formatDuration(pause)}, shorter than ${warmupWords}: lengthen the pause, shorten the warm-up, or tick "skip analysis" for step ${n}`;
  }
  const window = pause - warmup;
  if (window >= 2 * interval) return undefined;
  return (
    `Step ${n} pauses ${formatDuration(pause)}, which leaves ${formatDuration(window)} after ${warmupWords}; judging needs two of ${timing('interval', interval)}: ` +
    `lengthen the pause to at least ${formatDuration(warmup + 2 * interval)}, or shorten the warm-up or interval`
  );
}

/** A problem's text for the form when it is a pause-vs-analysis problem (else undefined). */
export function crossFieldText(problem: Problem, payload: unknown): string | undefined {
  if (!isPauseTimingProblem(problem)) return undefined;
  // The field is `steps[<index>].pause`.
  return pauseTimingText(payload, parseInt(problem.field.slice(6), 10));
}
