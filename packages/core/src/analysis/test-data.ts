/** Deterministic samples for the judge's tests and the benchmark (a seeded PRNG, no Math.random). */
export function seededNormal(seed: number): (mean: number, sd: number) => number {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (mean, sd) => mean + sd * Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

export function series(seed: number, n: number, mean: number, sd: number): number[] {
  const normal = seededNormal(seed);
  return Array.from({ length: n }, () => normal(mean, sd));
}
