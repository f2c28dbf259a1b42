// @ts-check
'use strict';
/**
 * Benchmark: time to judge one step of 12 metrics x 600 points per scope (canary and baseline),
 * e.g. 5 hours of 30 s samples, the largest window Kayenta's best practice asks for.
 *
 *   baseline  sort a copy of every series once (Float64Array sort): the least any rank-based judge
 *             pays for this data, measured in the same run on the same machine.
 *   judge     judgeStep: 12 classifications (rank-sum test, interval by root finding), scoring.
 *
 * Each is run N times after a warm-up; prints median and p90 in ms and the ratio to the baseline.
 * Usage: npx tsc -b tsconfig.build.json && node bench/judge.js [N]
 */
const { performance } = require('node:perf_hooks');
const { validateShiftSpec, judgeStep } = require('../packages/core/dist');
const { series } = require('../packages/core/dist/analysis/test-data');

const N = Number(process.argv[2] || 200);
const METRICS = 12;
const POINTS = 600;

const metrics = Array.from({ length: METRICS }, (_, i) => ({ name: `m${i}`, metric: 'custom', query: `m${i}{scope="{{scope}}"}`, group: i < 6 ? 'istio' : 'kubernetes' }));
const validation = validateShiftSpec({
  account: 'prod', namespace: 'shop', virtualService: 'checkout', route: { protocol: 'http', name: 'primary' },
  destinations: [{ host: 'checkout', subset: 'baseline' }, { host: 'checkout', subset: 'canary' }],
  steps: [{ weights: [50, 50], pause: '5h1m' }],
  analysis: { source: 'prometheus', scopes: { canary: { workload: 'checkout-canary' }, baseline: { workload: 'checkout-baseline' } }, metrics, groups: { istio: 60, kubernetes: 40 } },
});
if (!validation.ok) throw new Error(JSON.stringify(validation.problems));
const analysis = validation.spec.analysis;

// A third of the metrics shifted by +5%, one with ties (rounded), the rest alike.
const samples = {};
metrics.forEach((m, i) => {
  const shift = i % 3 === 0 ? 1.05 : 1;
  const round = i === 1 ? (v) => Math.round(v) : (v) => v;
  samples[m.name] = { canary: series(2 * i + 1, POINTS, 100 * shift, 10).map(round), baseline: series(2 * i + 2, POINTS, 100, 10).map(round) };
});

/** Wall-clock median and p90, and the median CPU time of this process (less disturbed on a busy machine). */
function measure(fn) {
  for (let i = 0; i < 20; i++) fn();
  const times = [];
  const cpu = [];
  for (let i = 0; i < N; i++) {
    const before = process.cpuUsage();
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
    const used = process.cpuUsage(before);
    cpu.push((used.user + used.system) / 1000);
  }
  times.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  return { median: times[Math.floor(N / 2)], p90: times[Math.floor(N * 0.9)], cpu: cpu[Math.floor(N / 2)] };
}

let sink = 0;
const baseline = measure(() => {
  for (const m of metrics) {
    sink += Float64Array.from(samples[m.name].canary).sort()[0] + Float64Array.from(samples[m.name].baseline).sort()[0];
  }
});
let judgement;
const judge = measure(() => {
  judgement = judgeStep(analysis, samples);
});

const fmt = (x) => x.toFixed(3);
console.log(`judge: ${METRICS} metrics x ${POINTS} points per scope, N=${N}, node ${process.version}`);
console.log(`load average ${require('node:os').loadavg().map((l) => l.toFixed(2)).join(' ')} on ${require('node:os').cpus().length} CPUs`);
console.log(`baseline (sort every series)  median ${fmt(baseline.median)} ms  p90 ${fmt(baseline.p90)} ms  cpu ${fmt(baseline.cpu)} ms`);
console.log(`judgeStep                     median ${fmt(judge.median)} ms  p90 ${fmt(judge.p90)} ms  cpu ${fmt(judge.cpu)} ms  ratio ${(judge.median / baseline.median).toFixed(1)}x`);
console.log(`result: score ${judgement.score.toFixed(1)} ${judgement.result}; ${judgement.metrics.filter((m) => m.failed).length} of ${METRICS} metrics High/Low (target < 5 ms: ${judge.median < 5 ? 'met' : 'NOT met'})`);
if (sink === 42) console.log('');
