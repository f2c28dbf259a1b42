/** Descriptive statistics of one scope's samples, JSON-safe (null where there is no value). */
export interface SampleSummary {
  count: number;
  mean: number | null;
  median: number | null;
  min: number | null;
  max: number | null;
}

export function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum / values.length;
}

/**
 * The samples the judge uses, sorted ascending once (the summary, the shortcuts and the test all
 * read this): NaN and infinities removed (Kayenta's nanStrategy "remove").
 */
export function sortedUsable(values: readonly number[]): Float64Array {
  const out = new Float64Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'number' && Number.isFinite(v)) out[n++] = v;
  }
  return (n === out.length ? out : out.slice(0, n)).sort();
}

export function summarize(sorted: Float64Array): SampleSummary {
  if (sorted.length === 0) return { count: 0, mean: null, median: null, min: null, max: null };
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return { count: sorted.length, mean: mean(sorted), median, min: sorted[0], max: sorted[sorted.length - 1] };
}

/** A finite number, or null (JSON has no NaN or Infinity). */
export function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}
