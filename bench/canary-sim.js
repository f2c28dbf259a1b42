// @ts-check
'use strict';
/**
 * Canary simulator: realistic per-interval data for one analysed step, and the runner's look schedule
 * around the pure judge. No dependencies, seeded (the same seed gives the same data, so the fixed and
 * the sequential judge can be compared on exactly the same canaries).
 *
 * The judge comes from outside: `createSim(core)` with core = require('../packages/core/dist') (the
 * benchmarks, after `npx tsc -b tsconfig.build.json`) or require('@istio-shift/core') (jest maps it to
 * the TypeScript sources).
 *
 * What is generated, per interval of I seconds (from the window's start), canary and baseline:
 * - requests: Poisson(rate x I x load), load a shared slow swing (sinusoid + AR(1)) that hits both;
 *   `requestTotals` instead spreads fixed window totals over the intervals (a broken route);
 * - 5xx: Binomial(requests, rate), the rate with per-scope, per-interval overdispersion (lognormal)
 *   and rare shared downstream bursts that add the same 5xx share to both scopes;
 * - latency: request latencies lognormal (median 40 ms, p99 180 ms by default) counted into Istio's
 *   default histogram buckets, and the p50/p95/p99 read from them as Prometheus' histogram_quantile
 *   does (linear interpolation inside the bucket): coarse at low traffic, as in production; NaN for
 *   an interval without requests;
 * - CPU per pod: idle + work per request (so it follows the traffic), measurement noise, a persistent
 *   per-scope offset (pods on different nodes) and occasional blips (GC, cron) mostly in the baseline;
 * - memory per pod: a per-scope level, slow drift, small noise;
 * - pod health: restarts, OOM kills and not-ready spans at given times, as the Kubernetes API shows
 *   them at each look (counts so far, percent ready at the look), with PodEvents naming pod,
 *   container and reason.
 * Regressions (canary only): error-rate multiplier or rate, late extra errors, latency factor, CPU and
 * memory factors, pod trouble, too little traffic, no canary series, no canary pods.
 *
 * simulateStep(analysis, scenario, options) runs the service's look schedule (see its comment) and
 * returns {verdict: 'promote'|'rollback'|'insufficient', atSeconds, judgement, phase, looks}.
 */

// ---------------------------------------------------------------------------------------------
// Random numbers

/** sfc32 seeded through splitmix32: fast, 128-bit state, good enough for Monte Carlo. */
function createRandom(seed) {
  let s = (Number(seed) >>> 0) ^ 0x9e3779b9;
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  /** Uniform in (0, 1). */
  const uniform = () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    const t = (a + b + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return (t + 0.5) / 4294967296;
  };
  for (let i = 0; i < 12; i++) uniform();
  const normal = (mean = 0, sd = 1) => mean + sd * Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  return {
    uniform,
    normal,
    /** exp(N(0, sigma)) scaled to mean 1. */
    lognormalFactor: (sigma) => (sigma > 0 ? Math.exp(normal(-sigma * sigma / 2, sigma)) : 1),
    poisson: (mean) => poisson(uniform, mean),
    binomial: (n, p) => binomial(uniform, normal, n, p),
    between: (lo, hi) => lo + (hi - lo) * uniform(),
    /** Beta(a, b) from two Marsaglia-Tsang gammas (a, b >= 1). */
    beta: (a, b) => {
      const x = gamma(uniform, normal, a);
      return x / (x + gamma(uniform, normal, b));
    },
    chance: (p) => uniform() < p,
  };
}

/** ln(k!) by summing logs, cached: the Poisson sampler needs it for whole k only. */
const logFactorials = [0];
function logFactorial(k) {
  for (let i = logFactorials.length; i <= k; i++) logFactorials.push(logFactorials[i - 1] + Math.log(i));
  return logFactorials[k];
}

/** Gamma(shape >= 1, scale 1), Marsaglia and Tsang (2000). */
function gamma(uniform, normal, shape) {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x;
    let v;
    do {
      x = normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = uniform();
    if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Exact Poisson: multiplication below 12, Hormann's PTRS above (as numpy). */
function poisson(uniform, mean) {
  if (!(mean > 0)) return 0;
  if (mean < 12) {
    const limit = Math.exp(-mean);
    let k = 0;
    let prod = uniform();
    while (prod > limit) {
      k++;
      prod *= uniform();
    }
    return k;
  }
  const slam = Math.sqrt(mean);
  const loglam = Math.log(mean);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const U = uniform() - 0.5;
    const V = uniform();
    const us = 0.5 - Math.abs(U);
    const k = Math.floor(((2 * a) / us + b) * U + mean + 0.43);
    if (us >= 0.07 && V <= vr) return k;
    if (k < 0 || (us < 0.013 && V > us)) continue;
    if (Math.log(V) + Math.log(invalpha) - Math.log(a / (us * us) + b) <= -mean + k * loglam - logFactorial(k)) return k;
  }
}

/** Binomial: exact inversion while n·min(p, 1-p) < 30, else the normal approximation (rounded, clamped). */
function binomial(uniform, normal, n, p) {
  n = Math.round(n);
  if (!(n > 0) || !(p > 0)) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(uniform, normal, n, 1 - p);
  const q = 1 - p;
  const np = n * p;
  if (np >= 30) return Math.min(n, Math.max(0, Math.round(normal(np, Math.sqrt(np * q)))));
  const qn = Math.exp(n * Math.log(q));
  const bound = Math.min(n, np + 10 * Math.sqrt(np * q + 1));
  for (;;) {
    let x = 0;
    let px = qn;
    let u = uniform();
    let ok = true;
    while (u > px) {
      x++;
      if (x > bound) {
        ok = false;
        break;
      }
      u -= px;
      px = ((n - x + 1) * p * px) / (x * q);
    }
    if (ok) return x;
  }
}

/** Standard normal CDF (Abramowitz & Stegun 26.2.17, |error| < 7.5e-8). */
function normalCdf(z) {
  if (z === Infinity) return 1;
  if (z === -Infinity) return 0;
  const t = 1 / (1 + 0.2316419 * Math.abs(z));
  const poly = t * (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  const tail = 0.3989422804014327 * Math.exp(-z * z / 2) * poly;
  return z >= 0 ? 1 - tail : tail;
}

// ---------------------------------------------------------------------------------------------
// Istio's latency histogram and Prometheus' histogram_quantile

/** Istio's default `istio_request_duration_milliseconds` bucket bounds (ms); +Inf is implied. */
const ISTIO_BUCKETS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];
const Z99 = 2.3263478740408408;

/** Counts per bucket (non-cumulative, last = +Inf) of n lognormal(mu, sigma) latencies. */
function latencyHistogram(random, n, mu, sigma, bounds = ISTIO_BUCKETS) {
  const counts = new Array(bounds.length + 1).fill(0);
  let left = n;
  let below = 0;
  for (let i = 0; i < bounds.length && left > 0; i++) {
    const cdf = normalCdf((Math.log(bounds[i]) - mu) / sigma);
    const p = cdf - below;
    const rest = 1 - below;
    const x = rest > 0 ? random.binomial(left, Math.min(1, Math.max(0, p / rest))) : 0;
    counts[i] = x;
    left -= x;
    below = cdf;
  }
  counts[bounds.length] += left;
  return counts;
}

/** Prometheus' histogram_quantile over non-cumulative bucket counts (NaN without observations). */
function histogramQuantile(q, counts, bounds = ISTIO_BUCKETS) {
  const total = counts.reduce((s, c) => s + c, 0);
  if (!(total > 0)) return Number.NaN;
  const rank = q * total;
  let cumulative = 0;
  for (let i = 0; i < counts.length; i++) {
    const before = cumulative;
    cumulative += counts[i];
    if (cumulative >= rank && counts[i] > 0) {
      if (i === bounds.length) return bounds[bounds.length - 1];
      const lower = i === 0 ? 0 : bounds[i - 1];
      return lower + (bounds[i] - lower) * ((rank - before) / counts[i]);
    }
  }
  return bounds[bounds.length - 1];
}

const QUANTILES = { 'latency-p50': 0.5, 'latency-p95': 0.95, 'latency-p99': 0.99 };

/**
 * One interval's p50/p95/p99 of n lognormal(mu, sigma) latencies: read from the histogram
 * (`model: 'histogram'`, Istio's buckets unless `buckets` is given), or the exact empirical quantile
 * (`model: 'exact'`: the ceil(q n)-th smallest latency, drawn as a Beta order statistic), e.g. a
 * summary or very fine buckets. NaN without requests.
 */
function latencyQuantiles(random, settings, n, mu, sigma) {
  const out = {};
  if (settings.model === 'exact') {
    for (const [name, q] of Object.entries(QUANTILES)) {
      if (n === 0) {
        out[name] = Number.NaN;
        continue;
      }
      const k = Math.max(1, Math.ceil(q * n));
      const u = random.beta(k, n - k + 1);
      out[name] = Math.exp(mu + sigma * inverseNormalCdf(u));
    }
    return out;
  }
  const bounds = settings.buckets || ISTIO_BUCKETS;
  const counts = latencyHistogram(random, n, mu, sigma, bounds);
  for (const [name, q] of Object.entries(QUANTILES)) out[name] = histogramQuantile(q, counts, bounds);
  return out;
}

/** Inverse standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9 after one Halley step). */
function inverseNormalCdf(p) {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  let x;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - low) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  return x;
}

// ---------------------------------------------------------------------------------------------
// Scenarios

const MIB = 1048576;

/** The healthy defaults; a scenario overrides any of them (shallow per block). */
const DEFAULTS = {
  seed: 1,
  /** Canary requests per second; the baseline gets `baselineRate` (default: the same, equal weights). */
  canaryRate: 10,
  baselineRate: undefined,
  /** Fixed totals over the analysis window instead of rates, e.g. {canary: 59, baseline: 12001}. */
  requestTotals: undefined,
  /** Share of requests answered 5xx, both scopes. */
  errorRate: 0.001,
  /** Per-scope, per-interval lognormal sigma of the error rate (extra-binomial noise). */
  errorOverdispersion: 0.3,
  /** Shared downstream bursts: chance per interval, and the range of the 5xx share they add to both scopes. */
  sharedErrorBurst: { chance: 0.01, extra: [0.002, 0.02] },
  load: { swing: 0.1, periodSeconds: 3600, ar: 0.8, sd: 0.04 },
  /** model 'histogram' (Istio's buckets, or `buckets`) or 'exact' (see latencyQuantiles). */
  latency: { model: 'histogram', buckets: undefined, medianMs: 40, p99Ms: 180, loadElasticity: 0.3, intervalSd: 0.04, offsetSd: 0.03 },
  cpu: { idleCores: 0.1, coresPerRequestPerSecond: 0.01, noiseSd: 0.04, offsetSd: 0.03, blipChance: { canary: 0.01, baseline: 0.03 }, blipFactor: [1.3, 2] },
  memory: { bytes: 250 * MIB, driftBytesPerMinute: 0.2 * MIB, noiseSd: 0.005, offsetSd: 0.02 },
  pods: { canary: 2, baseline: 2 },
  /** Weights of the canary's and the baseline's destinations (the evidence gate's expected share). */
  weights: { canary: 10, baseline: 10 },

  // Regressions (canary only)
  /** Canary error rate = errorRate x errorFactor, or `canaryErrorRate` when given. */
  errorFactor: 1,
  canaryErrorRate: undefined,
  /** Extra 5xx share added in the window's last `lastSeconds` (and after), e.g. {extra: 0.05, lastSeconds: 240}. */
  lateErrors: undefined,
  /** Multiplies every canary request latency (1.4 = +40%). */
  latencyFactor: 1,
  cpuFactor: 1,
  memoryFactor: 1,
  /** Seconds from the window's start at which the latency/CPU/memory/error regressions begin. */
  regressionFrom: 0,
  /**
   * Canary pod trouble, seconds from the window's start: {pod, container, restarts: [t...],
   * restartReason, oomKills: [t...], notReady: [{from, to}], notReadyReason}.
   */
  podTrouble: undefined,
  /** The same for the baseline (e.g. a node drain that restarts both). */
  baselinePodTrouble: undefined,
  /** Prometheus has no canary series (requests, latency, CPU, memory); pod status still read. */
  noCanarySeries: false,
  /** The Kubernetes API finds no canary pods either. */
  noCanaryPods: false,
};

function scenarioWithDefaults(scenario = {}) {
  const out = { ...DEFAULTS, ...scenario };
  for (const key of ['load', 'latency', 'cpu', 'memory', 'pods', 'weights', 'sharedErrorBurst']) out[key] = { ...DEFAULTS[key], ...(scenario[key] || {}) };
  out.cpu.blipChance = { ...DEFAULTS.cpu.blipChance, ...((scenario.cpu && scenario.cpu.blipChance) || {}) };
  return out;
}

/**
 * Per-interval data generated lazily in order (so a run that stops early costs less, and the data of
 * the first k intervals does not depend on how many are generated).
 */
function createTimeline(scenario, intervalSeconds, windowSeconds) {
  const s = scenarioWithDefaults(scenario);
  const random = createRandom(s.seed);
  const I = intervalSeconds;
  const windowIntervals = Math.round(windowSeconds / I);
  const latencySigma = Math.log(s.latency.p99Ms / s.latency.medianMs) / Z99;
  const latencyMu = Math.log(s.latency.medianMs);
  // Persistent per-run differences between the two sets of pods.
  const offsets = {
    latency: { canary: random.normal(0, s.latency.offsetSd), baseline: random.normal(0, s.latency.offsetSd) },
    cpu: { canary: random.lognormalFactor(s.cpu.offsetSd), baseline: random.lognormalFactor(s.cpu.offsetSd) },
    memory: { canary: random.lognormalFactor(s.memory.offsetSd), baseline: random.lognormalFactor(s.memory.offsetSd) },
  };
  const phase = random.uniform() * 2 * Math.PI;
  let ar = 0;
  // Fixed window totals: spread multinomially over the window's intervals.
  let fixed;
  if (s.requestTotals) {
    fixed = { canary: [], baseline: [] };
    for (const scope of ['canary', 'baseline']) {
      let left = Math.round(s.requestTotals[scope]);
      for (let i = 0; i < windowIntervals; i++) {
        const x = i === windowIntervals - 1 ? left : random.binomial(left, 1 / (windowIntervals - i));
        fixed[scope].push(x);
        left -= x;
      }
    }
  }
  const rates = {
    canary: s.requestTotals ? s.requestTotals.canary / windowSeconds : s.canaryRate,
    baseline: s.requestTotals ? s.requestTotals.baseline / windowSeconds : s.baselineRate ?? s.canaryRate,
  };
  const data = { requests: { canary: [], baseline: [] }, errors: { canary: [], baseline: [] }, latency: { canary: [], baseline: [] }, cpu: { canary: [], baseline: [] }, memory: { canary: [], baseline: [] } };

  function generate(i) {
    const t0 = i * I;
    const t1 = t0 + I;
    ar = s.load.ar * ar + random.normal(0, s.load.sd);
    const load = Math.exp(s.load.swing * Math.sin((2 * Math.PI * t1) / s.load.periodSeconds + phase) + ar);
    const burst = random.chance(s.sharedErrorBurst.chance) ? random.between(s.sharedErrorBurst.extra[0], s.sharedErrorBurst.extra[1]) : 0;
    const regressed = t1 > s.regressionFrom;
    for (const scope of ['canary', 'baseline']) {
      const canary = scope === 'canary';
      const n = fixed && i < windowIntervals ? fixed[scope][i] : random.poisson(rates[scope] * I * load);
      let p = s.errorRate;
      if (canary && regressed) p = s.canaryErrorRate ?? s.errorRate * s.errorFactor;
      p = Math.min(1, p * random.lognormalFactor(s.errorOverdispersion) + burst);
      if (canary && s.lateErrors && t1 > windowSeconds - s.lateErrors.lastSeconds) p = Math.min(1, p + s.lateErrors.extra);
      data.requests[scope].push(n);
      data.errors[scope].push(random.binomial(n, p));
      const mu = latencyMu + s.latency.loadElasticity * Math.log(load) + random.normal(0, s.latency.intervalSd) + offsets.latency[scope] + (canary && regressed ? Math.log(s.latencyFactor) : 0);
      data.latency[scope].push(latencyQuantiles(random, s.latency, n, mu, latencySigma));
      const pods = s.pods[scope];
      const work = s.cpu.coresPerRequestPerSecond * (n / I / pods);
      let cpu = (s.cpu.idleCores + work) * random.lognormalFactor(s.cpu.noiseSd) * offsets.cpu[scope];
      if (random.chance(s.cpu.blipChance[scope])) cpu *= random.between(s.cpu.blipFactor[0], s.cpu.blipFactor[1]);
      if (canary && regressed) cpu *= s.cpuFactor;
      data.cpu[scope].push(cpu);
      let memory = (s.memory.bytes * offsets.memory[scope] + (s.memory.driftBytesPerMinute * t1) / 60) * random.lognormalFactor(s.memory.noiseSd);
      if (canary && regressed) memory *= s.memoryFactor;
      data.memory[scope].push(memory);
    }
  }

  /** Interval data up to look k (k intervals from the window's start). */
  function upTo(k) {
    while (data.requests.canary.length < k) generate(data.requests.canary.length);
    return data;
  }
  return { scenario: s, upTo, intervalSeconds: I, windowIntervals };
}

// ---------------------------------------------------------------------------------------------
// What the runner reads at a look


function podNames(scope, count) {
  const hash = scope === 'canary' ? '7d9f8c6b5' : '5c4b7f9d8';
  const suffixes = ['x2kqp', 'm8zt4', 'q7wnd', 'b5rhc', 'k9vfs', 'p3jly'];
  return Array.from({ length: count }, (_, i) => `checkout-${scope}-${hash}-${suffixes[i % suffixes.length]}`);
}

/** Pod status at time t (seconds from the window's start) and at the looks so far. */
function podStatus(trouble, pods, scope, t, lookTimes) {
  const names = podNames(scope, pods);
  const tr = trouble || {};
  const pod = tr.pod || names[0];
  const container = tr.container || 'app';
  const restarts = (tr.restarts || []).filter((x) => x <= t).length;
  const ooms = (tr.oomKills || []).filter((x) => x <= t).length;
  const notReadyAt = (x) => (tr.notReady || []).some((span) => x >= span.from && x < span.to);
  const readiness = lookTimes.map((x) => (notReadyAt(x) ? (100 * (pods - 1)) / pods : 100));
  const notReadyLooks = lookTimes.filter(notReadyAt).length;
  const events = [];
  if (restarts > 0) events.push({ pod, container, kind: 'restart', reason: tr.restartReason || (ooms > 0 ? 'OOMKilled' : 'Error'), count: restarts });
  if (ooms > 0) events.push({ pod, container, kind: 'oom-kill', reason: 'OOMKilled', count: ooms });
  if (notReadyLooks > 0) events.push({ pod, container, kind: 'not-ready', reason: tr.notReadyReason || 'CrashLoopBackOff', count: notReadyLooks });
  return { restarts, ooms, readiness, events };
}

/**
 * The samples and evidence the runner has at look k: everything from the window's start to k
 * intervals in, keyed by the analysis' metric names (custom metrics get no data).
 */
function readAt(analysis, timeline, k) {
  const s = timeline.scenario;
  const data = timeline.upTo(k);
  const I = timeline.intervalSeconds;
  const t = k * I;
  const lookTimes = Array.from({ length: k }, (_, i) => (i + 1) * I);
  const slice = (series) => series.slice(0, k);
  const prom = (scope, values) => (scope === 'canary' && s.noCanarySeries ? [] : values);
  const pod = { canary: podStatus(s.podTrouble, s.pods.canary, 'canary', t, lookTimes), baseline: podStatus(s.baselinePodTrouble, s.pods.baseline, 'baseline', t, lookTimes) };
  const podValues = (scope, values) => (scope === 'canary' && s.noCanaryPods ? [] : values);
  const samples = {};
  for (const metric of analysis.metrics) {
    const per = (fn) => ({ canary: fn('canary'), baseline: fn('baseline') });
    switch (metric.metric) {
      case 'success-rate':
        samples[metric.name] = per((scope) =>
          prom(scope, slice(data.requests[scope]).map((n, i) => (n > 0 ? 100 * (1 - data.errors[scope][i] / n) : Number.NaN))),
        );
        break;
      case 'latency-p50':
      case 'latency-p95':
      case 'latency-p99':
        samples[metric.name] = per((scope) => prom(scope, slice(data.latency[scope]).map((q) => q[metric.metric])));
        break;
      case 'cpu':
        samples[metric.name] = per((scope) => prom(scope, slice(data.cpu[scope])));
        break;
      case 'memory':
        samples[metric.name] = per((scope) => prom(scope, slice(data.memory[scope])));
        break;
      case 'restarts':
        samples[metric.name] = per((scope) => podValues(scope, [pod[scope].restarts]));
        break;
      case 'oom-killed':
        samples[metric.name] = per((scope) => podValues(scope, [pod[scope].ooms]));
        break;
      case 'readiness':
        samples[metric.name] = per((scope) => podValues(scope, pod[scope].readiness));
        break;
      default:
        break;
    }
  }
  const counts = (scope) => (scope === 'canary' && s.noCanarySeries ? { requests: [], errors: [] } : { requests: slice(data.requests[scope]), errors: slice(data.errors[scope]) });
  const evidence = {
    requests: { canary: counts('canary'), baseline: counts('baseline') },
    weights: { ...s.weights },
    podEvents: { canary: s.noCanaryPods ? [] : pod.canary.events, baseline: pod.baseline.events },
  };
  return { samples, evidence };
}

/**
 * Whether the data up to look k holds the analysis' minimum evidence, computed from the generated
 * data itself (not from the judge's gate), to check that no canary is promoted without it.
 */
function hasMinimumEvidence(analysis, read) {
  const ev = analysis.evidence;
  const sum = (list) => list.reduce((a, b) => a + Math.round(b), 0);
  const c = sum(read.evidence.requests.canary.requests);
  const b = sum(read.evidence.requests.baseline.requests);
  if (c < ev.minRequests) return false;
  const w = read.evidence.weights;
  if (ev.minTrafficShare > 0 && w.canary > 0 && w.baseline > 0 && (b === 0 || c / b / (w.canary / w.baseline) < ev.minTrafficShare)) return false;
  for (const m of analysis.metrics) {
    if (m.judge.type !== 'statistical') continue;
    const data = read.samples[m.name];
    const usable = (list) => (list || []).filter(Number.isFinite).length;
    if (!data || usable(data.canary) < ev.minPoints || usable(data.baseline) < ev.minPoints) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// The judge, as the service runs it

function createSim(core) {
  if (!core || typeof core.judgeStep !== 'function') throw new Error('createSim(core): pass the core module (require("../packages/core/dist") or require("@istio-shift/core"))');

  /**
   * The reference preset (as validated) for a single analysed step of `windowMinutes` after a 1m
   * warm-up, then 100/0/0: the step is the last analysed one, so Marginal fails.
   */
  function referenceStepAnalysis(options = {}) {
    const block = core.referenceAnalysis({ canary: { workload: 'checkout-canary' }, baseline: { workload: 'checkout-baseline' } });
    if (options.mode) block.mode = options.mode;
    if (options.change) options.change(block);
    const windowMinutes = options.windowMinutes ?? 10;
    const result = core.validateShiftSpec({
      account: 'prod', namespace: 'shop', virtualService: 'checkout', route: { protocol: 'http', name: 'primary' },
      destinations: [{ host: 'checkout', subset: 'release' }, { host: 'checkout', subset: 'baseline' }, { host: 'checkout', subset: 'canary' }],
      steps: [{ weights: [80, 10, 10], pause: `${windowMinutes + 1}m` }, { weights: [100, 0, 0] }],
      analysis: block,
    });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    return result.spec.analysis;
  }

  /**
   * One analysed step as the service runs it:
   * - look k = 1..W/I (every interval, both modes; the judge decides what may stop a step mid-window:
   *   a crossed sequential test, or a critical threshold/pod metric): judgeStep(..., {midWindow: true})
   *   over the window so far; `passed: false` rolls back at k x I;
   * - at the window's end judgeStep(..., {}) over the whole window: passed promotes, a failure rolls
   *   back; InsufficientData waits up to the evidence extension (default one more window), judging the
   *   grown window every interval: the first verdict that is not InsufficientData decides; still
   *   insufficient at the end is 'insufficient' (the step fails, nothing is promoted).
   * Options: step (default 0), lookEvery (intervals between mid-window looks, default 1), extend
   * (default true), trace (keep every look's result).
   * Returns {verdict, atSeconds (from the window's start), phase ('mid-window'|'window-end'|
   * 'extension'), judgement, looks (judge calls), enoughEvidence (the data, by the gate's own rules,
   * held the minimum evidence at the decision), trace?}.
   */
  function simulateStep(analysis, scenario, options = {}) {
    const stepIndex = options.step ?? 0;
    const step = analysis.steps[stepIndex];
    if (!step || !step.analysed) throw new Error(`step ${stepIndex} is not analysed`);
    const I = step.intervalSeconds;
    const N = Math.round(step.windowSeconds / I);
    const timeline = createTimeline(scenario, I, step.windowSeconds);
    const lookEvery = Math.max(1, options.lookEvery ?? 1);
    const trace = options.trace ? [] : undefined;
    let looks = 0;
    const judge = (k, midWindow) => {
      const read = readAt(analysis, timeline, k);
      looks++;
      const judgement = core.judgeStep(analysis, read.samples, midWindow ? { step: stepIndex, evidence: read.evidence, midWindow: true } : { step: stepIndex, evidence: read.evidence });
      if (trace) trace.push({ k, atSeconds: k * I, midWindow, result: judgement.result, passed: judgement.passed });
      return { judgement, read };
    };
    const done = (verdict, k, phase, { judgement, read }) => {
      const out = { verdict, atSeconds: k * I, phase, judgement, looks, enoughEvidence: hasMinimumEvidence(analysis, read) };
      if (trace) out.trace = trace;
      return out;
    };
    for (let k = 1; k <= N; k++) {
      if (k % lookEvery !== 0 && k !== N) continue;
      const look = judge(k, true);
      if (!look.judgement.passed) return done('rollback', k, 'mid-window', look);
    }
    let last = judge(N, false);
    if (last.judgement.result !== 'InsufficientData') return done(last.judgement.passed ? 'promote' : 'rollback', N, 'window-end', last);
    const extension = options.extend === false ? 0 : Math.round(core.evidenceExtensionSeconds(analysis, step) / I);
    for (let e = 1; e <= extension; e++) {
      last = judge(N + e, false);
      if (last.judgement.result !== 'InsufficientData') return done(last.judgement.passed ? 'promote' : 'rollback', N + e, 'extension', last);
    }
    return done('insufficient', N + extension, extension > 0 ? 'extension' : 'window-end', last);
  }

  /** The line people read for a simulated step (describeJudgement, 1-based step number). */
  function message(result, stepIndex = 0) {
    return core.describeJudgement(result.judgement, stepIndex + 1);
  }

  return { referenceStepAnalysis, simulateStep, message, readAt: (analysis, scenario, k, intervalSeconds = 30, windowSeconds = 600) => readAt(analysis, createTimeline(scenario, intervalSeconds, windowSeconds), k) };
}

// ---------------------------------------------------------------------------------------------
// Named scenarios (the talk's incident and friends), seconds from the window's start

const SCENARIOS = {
  healthy: () => ({}),
  /** 5xx rate x factor (0.1% baseline), whole window. */
  errors: (factor) => ({ errorFactor: factor }),
  /** The canary's 5xx rate, e.g. 0.009 against the baseline's 0.001. */
  errorRate: (rate) => ({ canaryErrorRate: rate }),
  /** Extra 5xx share in the window's last seconds. */
  lateErrors: (extra = 0.05, lastSeconds = 240) => ({ lateErrors: { extra, lastSeconds } }),
  latency: (increase) => ({ latencyFactor: 1 + increase }),
  cpu: (increase) => ({ cpuFactor: 1 + increase }),
  /** The talk's incident: CPU +190%, memory +35%, Istio metrics normal. */
  incident: () => ({ cpuFactor: 2.9, memoryFactor: 1.35 }),
  /** A container that crashes 3 times (CrashLoopBackOff backs off 10 s, 20 s). */
  restarts: (at = 61) => ({ podTrouble: { container: 'app', restarts: [at, at + 10, at + 27], restartReason: 'Error' } }),
  /** OOM-killed, then crash-looping: 3 restarts (the first OOMKilled), not ready while it backs off. */
  crashLoop: (at = 61) => ({ podTrouble: { container: 'app', restarts: [at, at + 10, at + 27], restartReason: 'OOMKilled', oomKills: [at], notReady: [{ from: at, to: at + 300 }], notReadyReason: 'CrashLoopBackOff' } }),
  /** A route or selector that sends the canary almost nothing. */
  starved: (canary = 59, baseline = 12001) => ({ requestTotals: { canary, baseline } }),
  noCanarySeries: () => ({ noCanarySeries: true }),
  noCanary: () => ({ noCanarySeries: true, noCanaryPods: true }),
};

module.exports = { createSim, createRandom, histogramQuantile, latencyHistogram, ISTIO_BUCKETS, DEFAULTS, SCENARIOS, scenarioWithDefaults };
