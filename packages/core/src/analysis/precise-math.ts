/**
 * log and exp correctly rounded in all but rare hard cases. V8's Math.log and Math.exp may be one
 * unit in the last place off glibc's (which R uses): at log(0.01) that moved the 98% quantile, and
 * so the interval bounds, by 1e-15; in pnorm's tail it moved small p-values by an ulp. Computing
 * in double-double (about 106 bits) and rounding once gives R's values. Only normal.ts uses them,
 * a handful of times per test.
 */
type DD = [number, number];

const SPLIT = 134217729; // 2^27 + 1, Dekker's splitter
const LN2: DD = [0.6931471805599453, 2.3190468138462996e-17];

function twoSum(a: number, b: number): DD {
  const s = a + b;
  const bb = s - a;
  return [s, a - (s - bb) + (b - bb)];
}

function twoProd(a: number, b: number): DD {
  const p = a * b;
  const ca = SPLIT * a;
  const ah = ca - (ca - a);
  const al = a - ah;
  const cb = SPLIT * b;
  const bh = cb - (cb - b);
  const bl = b - bh;
  return [p, ah * bh - p + ah * bl + al * bh + al * bl];
}

function add(a: DD, b: DD): DD {
  const [s, e] = twoSum(a[0], b[0]);
  const t = e + a[1] + b[1];
  return twoSum(s, t);
}

function mul(a: DD, b: DD): DD {
  const [p, e] = twoProd(a[0], b[0]);
  return twoSum(p, e + a[0] * b[1] + a[1] * b[0]);
}

function div(a: DD, b: DD): DD {
  const q1 = a[0] / b[0];
  const r = add(a, mul([-q1, 0], b));
  const q2 = r[0] / b[0];
  const r2 = add(r, mul([-q2, 0], b));
  const q3 = r2[0] / b[0];
  return add(twoSum(q1, q2), [q3, 0]);
}

export function preciseLog(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return Math.log(x);
  // x = m 2^e with m in [sqrt(1/2), sqrt(2)); scaling by powers of two is exact.
  let e = Math.floor(Math.log2(x));
  let m = x / 2 ** e;
  while (m >= Math.SQRT2) {
    m /= 2;
    e += 1;
  }
  while (m < Math.SQRT1_2) {
    m *= 2;
    e -= 1;
  }
  // log(m) = 2 atanh(s), s = (m - 1) / (m + 1); m - 1 is exact here (Sterbenz).
  const s = div([m - 1, 0], twoSum(m, 1));
  const s2 = mul(s, s);
  let term = s;
  let sum = s;
  for (let k = 3; k < 80; k += 2) {
    term = mul(term, s2);
    const piece = div(term, [k, 0]);
    sum = add(sum, piece);
    if (Math.abs(piece[0]) < Math.abs(sum[0]) * 1e-34) break;
  }
  const result = add(mul(LN2, [e, 0]), add(sum, sum));
  return result[0] + result[1];
}

export function preciseExp(x: number): number {
  if (!Number.isFinite(x) || x > 709.78 || x < -745.2) return Math.exp(x);
  // x = k ln2 + r with |r| <= ln2 / 2, r in double-double; exp(r) by its Taylor series.
  const k = Math.round(x / LN2[0]);
  const r = add([x, 0], mul(LN2, [-k, 0]));
  let term: DD = [1, 0];
  let sum: DD = [1, 0];
  for (let n = 1; n < 40; n++) {
    term = div(mul(term, r), [n, 0]);
    sum = add(sum, term);
    if (Math.abs(term[0]) < 1e-34) break;
  }
  // Scale in two halves so neither factor overflows or underflows early.
  const half = Math.trunc(k / 2);
  return (sum[0] + sum[1]) * 2 ** half * 2 ** (k - half);
}
