/** Number formats shared by the judge's reasons and the sentences people read (no statistics here). */

/** An e-value as people read it: 37, 0.42, 1.2e+7. */
export function formatE(value: number): string {
  if (value >= 1e6) return value.toExponential(1);
  return value >= 100 ? value.toFixed(0) : String(Number(value.toPrecision(2)));
}

/** A share as a percentage: 100%, 53%, 4.5%, 0.49%. */
export function formatShare(share: number): string {
  const pct = share * 100;
  return `${Math.abs(pct) >= 10 ? pct.toFixed(0) : Number(pct.toPrecision(2))}%`;
}
