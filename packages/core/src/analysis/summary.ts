/** Descriptive statistics of one scope's samples, JSON-safe (null where there is no value). */
export interface SampleSummary {
  count: number;
  mean: number | null;
  median: number | null;
  min: number | null;
  max: number | null;
}

/** Samples the judge uses: NaN and infinities removed (Kayenta's nanStrategy "remove"). */
export function usable(values: readonly number[]): number[] {
  return values.filter((v) => typeof v === 'number' && Number.isFinite(v));
}

export function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

export function summarize(values: readonly number[]): SampleSummary {
  if (values.length === 0) return { count: 0, mean: null, median: null, min: null, max: null };
  const sorted = Float64Array.from(values).sort();
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return { count: values.length, mean: mean(values), median, min: sorted[0], max: sorted[sorted.length - 1] };
}

/** A finite number, or null (JSON has no NaN or Infinity). */
export function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}
