/**
 * Brent's root finder exactly as R's `uniroot` runs it (R_zeroin2 in src/library/stats/src/zeroin.c):
 * the confidence interval of the rank-sum test is the root of a step function, so the root R reports
 * depends on the iterates; reproducing them step for step is what makes our bounds equal R's.
 */
const EPSILON = 2.220446049250313e-16;

export function zeroin(
  ax: number,
  bx: number,
  faIn: number,
  fbIn: number,
  f: (x: number) => number,
  tol: number,
  maxIterations = 1000,
): number {
  let a = ax;
  let b = bx;
  let fa = faIn;
  let fb = fbIn;
  let c = a;
  let fc = fa;
  if (fa === 0) return a;
  if (fb === 0) return b;
  for (let remaining = maxIterations + 1; remaining > 0; remaining--) {
    const prevStep = b - a;
    if (Math.abs(fc) < Math.abs(fb)) {
      a = b;
      b = c;
      c = a;
      fa = fb;
      fb = fc;
      fc = fa;
    }
    const tolAct = 2 * EPSILON * Math.abs(b) + tol / 2;
    let newStep = (c - b) / 2;
    if (Math.abs(newStep) <= tolAct || fb === 0) return b;
    if (Math.abs(prevStep) >= tolAct && Math.abs(fa) > Math.abs(fb)) {
      let p: number;
      let q: number;
      const cb = c - b;
      if (a === c) {
        const t1 = fb / fa;
        p = cb * t1;
        q = 1.0 - t1;
      } else {
        q = fa / fc;
        const t1 = fb / fc;
        const t2 = fb / fa;
        p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0));
        q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0);
      }
      if (p > 0) q = -q;
      else p = -p;
      if (p < 0.75 * cb * q - Math.abs(tolAct * q) / 2 && p < Math.abs((prevStep * q) / 2)) newStep = p / q;
    }
    if (Math.abs(newStep) < tolAct) newStep = newStep > 0 ? tolAct : -tolAct;
    a = b;
    fa = fb;
    b += newStep;
    fb = f(b);
    if ((fb > 0 && fc > 0) || (fb < 0 && fc < 0)) {
      c = a;
      fc = fa;
    }
  }
  return b; // not converged: R warns and returns the last iterate
}
