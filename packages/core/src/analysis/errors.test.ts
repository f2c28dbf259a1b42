import { binomialUpperTail, errorsPath, errorsPValue, logGamma, totals } from './errors';
import { seededNormal } from './test-data';

// Reference values from R 4.2 (r-base-core), computed with:
//   Rscript -e 'for (a in list(c(54,60,2/3),c(5,100,0.01),c(3000,6000,0.5),c(1,1,0.3),c(40,50,0.9),c(12,1000,0.001)))
//     cat(sprintf("[%d, %d, %.17g, %.17g],\n", a[1], a[2], a[3], pbinom(a[1]-1, a[2], a[3], lower.tail=FALSE)))'
const R_UPPER_TAILS: Array<[number, number, number, number]> = [
  [54, 60, 0.66666666666666663, 2.6874881780021525e-05],
  [5, 100, 0.01, 0.0034323215877545264],
  [3000, 6000, 0.5, 0.50515010810133532],
  [1, 1, 0.29999999999999999, 0.29999999999999999],
  [40, 50, 0.90000000000000002, 0.99064539841267096],
  [12, 1000, 0.001, 7.8658730239754561e-10],
];

/** A seeded Poisson sampler (Knuth for small means, normal approximation above 500). */
function poisson(seed: number): (mean: number) => number {
  const normal = seededNormal(seed);
  const uniform = () => (normal(0, 1) > 0 ? 0.5 : 0) + Math.abs(Math.tanh(normal(0, 1))) / 2;
  return (mean) => {
    if (mean > 500) return Math.max(0, Math.round(normal(mean, Math.sqrt(mean))));
    const limit = Math.exp(-mean);
    let k = 0;
    let p = uniform();
    while (p > limit) {
      k++;
      p *= uniform();
    }
    return k;
  };
}

describe('error counts', () => {
  it.each(R_UPPER_TAILS)('P(X >= %d) for Binomial(%d, %d) agrees with R pbinom to 1e-9 relative', (k, n, p, expected) => {
    expect(Math.abs(binomialUpperTail(k, n, p) - expected) / expected).toBeLessThan(1e-9);
  });

  it('lnGamma agrees with R lgamma', () => {
    // Rscript -e 'cat(sprintf("%.17g", lgamma(c(1, 0.5, 10, 1000.5, 123456))), sep="\n")'
    const r = [0, 0.57236494292470008, 12.801827480081469, 5908.6741758486778, 1323892.7688437013];
    [1, 0.5, 10, 1000.5, 123456].forEach((x, i) => expect(Math.abs(logGamma(x) - r[i])).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(r[i]))));
  });

  it('rounds extrapolated counts to whole requests and never counts more errors than requests', () => {
    expect(totals([{ requests: 10.4, errors: 1.6 }, { requests: 0.2, errors: 3 }, { requests: Number.NaN, errors: 1 }])).toEqual({ requests: 10, errors: 2 });
  });

  it('fixed window: a 9x rise on 6,000 requests each is significant; the same counts within maxRatio are not', () => {
    expect(errorsPValue({ requests: 6000, errors: 54 }, { requests: 6000, errors: 6 }, 2)).toBeLessThan(1e-4); // 2.69e-5, R: pbinom(53, 60, 2/3, lower.tail=FALSE)
    expect(errorsPValue({ requests: 6000, errors: 8 }, { requests: 6000, errors: 6 }, 2)).toBeGreaterThan(0.5);
    expect(errorsPValue({ requests: 0, errors: 0 }, { requests: 6000, errors: 6 }, 2)).toBe(1);
  });

  it('sequential: crosses on a blatant rise, and only once the absolute gap exceeds maxIncrease', () => {
    const canary = Array.from({ length: 20 }, () => ({ requests: 300, errors: 3 }));
    const baseline = Array.from({ length: 20 }, (_, i) => ({ requests: 300, errors: i % 4 === 0 ? 1 : 0 }));
    const path = errorsPath(canary, baseline, 1, 0.1, 400);
    expect(path.crossedAt).toBeGreaterThan(1);
    expect(path.crossedAt).toBeLessThanOrEqual(8);
    // A relative tolerance of 2 needs more evidence for the same counts.
    expect(errorsPath(canary, baseline, 2, 0.1, 400).crossedAt).toBeGreaterThan(path.crossedAt as number);
    // The same evidence with a tolerance of 2 points never fails: the gap is 0.9 points.
    expect(errorsPath(canary, baseline, 1, 2, 400).crossedAt).toBeUndefined();
  });

  it('sequential: under the worst null (canary error rate exactly maxRatio x the baseline) it crosses in at most alpha of runs, however often it looks', () => {
    const draw = poisson(7);
    const alpha = 0.05;
    const runs = 2000;
    let crossed = 0;
    for (let run = 0; run < runs; run++) {
      const canary = [];
      const baseline = [];
      for (let i = 0; i < 40; i++) {
        canary.push({ requests: 300, errors: draw(300 * 0.004) });
        baseline.push({ requests: 300, errors: draw(300 * 0.002) });
      }
      if (errorsPath(canary, baseline, 2, 0, 1 / alpha).crossedAt !== undefined) crossed++;
    }
    // Ville's inequality bounds the rate by alpha; 0.05 of 2000 is 100 (sd ~10): allow three sd.
    expect(crossed / runs).toBeLessThanOrEqual(alpha + 0.015);
  });
});
