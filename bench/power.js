// @ts-check
'use strict';
/**
 * Power of the canary judge: the reference preset, fixed window (Kayenta's judge, mode fixed) and
 * sequential (mode sequential) side by side on the same simulated canaries (bench/canary-sim.js,
 * same seeds for both modes), through the service's look schedule.
 *
 * Per traffic level (canary req/s; the baseline gets the same at equal weights):
 * - healthy canaries: false rollback rate (and which metric rolled them back);
 * - regressions: detection rate, median / p90 time to rollback from the window's start, share
 *   rolled back within 5 minutes;
 * - too little evidence (a starved route, no canary series, a trickle below minRequests): verdicts;
 * and over every run: promotions with less than the minimum evidence (computed from the data, not
 * from the judge's gate). Prints a markdown table; --json FILE writes every figure.
 *
 * Usage: npx tsc -b tsconfig.build.json && node bench/power.js [--healthy 1000] [--regression 500]
 *          [--seed 1] [--levels 1,10,100] [--modes fixed,sequential] [--latency istio|exact]
 *          [--only name,name] [--json FILE]
 */
const { performance } = require('node:perf_hooks');
const core = require('../packages/core/dist');
const { createSim, SCENARIOS } = require('./canary-sim');

function parseArgs(argv) {
  const args = { healthy: 1000, regression: 500, seed: 1, levels: [1, 10, 100], modes: ['fixed', 'sequential'], latency: 'istio', only: undefined, json: undefined };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    const value = argv[++i];
    if (value === undefined) throw new Error(`--${key} needs a value`);
    if (key === 'healthy' || key === 'regression' || key === 'seed') args[key] = Number(value);
    else if (key === 'levels') args.levels = value.split(',').map(Number);
    else if (key === 'modes') args.modes = value.split(',');
    else if (key === 'only') args.only = value.split(',');
    else if (key === 'latency' || key === 'json') args[key] = value;
    else throw new Error(`unknown option --${key}`);
  }
  return args;
}

const args = parseArgs(process.argv.slice(2));
const sim = createSim(core);
const latency = args.latency === 'exact' ? { model: 'exact' } : {};

/**
 * The table: [name, kind, scenario, window minutes, levels, count]. kind: healthy (the false
 * rollback target) | healthy-extra (reported, not in the target) | regression | evidence (the canary
 * must not be promoted). Levels default to all; count 'regression' runs --regression canaries.
 */
const ROWS = [
  ['healthy', 'healthy', () => SCENARIOS.healthy()],
  ['healthy, noisier pods', 'healthy-extra', () => NOISY],
  ['healthy, node drain (a canary and a baseline pod restart, unready 1 min)', 'healthy-extra', () => DRAIN, 10, undefined, 'regression'],
  ['5xx 0.1% -> 0.5%', 'regression', () => SCENARIOS.errorRate(0.005)],
  ['5xx 0.1% -> 1%', 'regression', () => SCENARIOS.errorRate(0.01)],
  ['5xx 0.1% -> 2%', 'regression', () => SCENARIOS.errorRate(0.02)],
  ['+5% 5xx in the last 4 of 21 min', 'regression', () => SCENARIOS.lateErrors(0.05, 240), 21],
  ['latency +20%', 'regression', () => SCENARIOS.latency(0.2)],
  ['latency +40%', 'regression', () => SCENARIOS.latency(0.4)],
  ['latency +100%', 'regression', () => SCENARIOS.latency(1)],
  ['latency +40%, exact p99 (no buckets)', 'regression', () => ({ ...SCENARIOS.latency(0.4), latency: { model: 'exact' } })],
  ['CPU +50%', 'regression', () => SCENARIOS.cpu(0.5)],
  ['CPU +190%, memory +35% (the talk)', 'regression', () => SCENARIOS.incident()],
  ['3 restarts at 1 min', 'regression', () => SCENARIOS.restarts(61)],
  ['OOM kill, 3 restarts, not ready at 1 min', 'regression', () => SCENARIOS.crashLoop(61)],
  ['59 vs 12,001 requests', 'evidence', () => SCENARIOS.starved(59, 12001), 10, [10]],
  ['no canary series', 'evidence', () => SCENARIOS.noCanarySeries(), 10, [10]],
  ['no canary series nor pods', 'evidence', () => SCENARIOS.noCanary(), 10, [10]],
  ['trickle: 0.03 req/s both (about 18 per window)', 'evidence', () => ({ canaryRate: 0.03 }), 10, [10]],
];

/** Healthy, with twice the noise: per-pod offsets, CPU blips in both scopes, burstier errors, load swings. */
const NOISY = {
  errorOverdispersion: 0.6,
  load: { sd: 0.08 },
  latency: { intervalSd: 0.1, offsetSd: 0.06 },
  cpu: { noiseSd: 0.1, offsetSd: 0.06, blipChance: { canary: 0.05, baseline: 0.05 } },
  memory: { offsetSd: 0.04, noiseSd: 0.01 },
};
const DRAIN = {
  podTrouble: { restarts: [200], restartReason: 'Error', notReady: [{ from: 200, to: 260 }], notReadyReason: 'ContainersNotReady' },
  baselinePodTrouble: { restarts: [200], notReady: [{ from: 200, to: 260 }] },
};

/** Deterministic seed per row, level and run: the same in both modes. */
function seedFor(row, level, i) {
  let h = 2166136261 ^ args.seed;
  for (const ch of `${row}|${level}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return ((h >>> 0) + i * 7919) >>> 0;
}

const quantile = (sorted, q) => (sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]);
const pct = (n, d) => (d === 0 ? '-' : `${((100 * n) / d).toFixed(d >= 1000 ? 2 : 1)}%`);

const analyses = {};
function analysisFor(mode, minutes) {
  const key = `${mode}/${minutes}`;
  if (!analyses[key]) analyses[key] = sim.referenceStepAnalysis({ mode, windowMinutes: minutes });
  return analyses[key];
}

const results = [];
const started = performance.now();
let judgeCalls = 0;
for (const [name, kind, make, minutes = 10, onlyLevels, count] of ROWS) {
  if (args.only && !args.only.some((o) => name.includes(o))) continue;
  const levels = onlyLevels || args.levels;
  for (const level of levels) {
    const runs = kind.startsWith('healthy') && count !== 'regression' ? args.healthy : args.regression;
    const row = { name, kind, level, minutes, runs, modes: {} };
    for (const mode of args.modes) {
      const analysis = analysisFor(mode, minutes);
      const cell = { rollback: 0, promote: 0, insufficient: 0, threw: 0, errors: [], times: [], within5: 0, midWindow: 0, promotedWithoutEvidence: 0, causes: {}, examples: [] };
      const t0 = performance.now();
      for (let i = 0; i < runs; i++) {
        const base = make();
        const scenario = { canaryRate: level, ...base, latency: { ...latency, ...(base.latency || {}) }, seed: seedFor(name, level, i) };
        if (base.canaryRate !== undefined) scenario.canaryRate = base.canaryRate;
        let r;
        try {
          r = sim.simulateStep(analysis, scenario);
        } catch (error) {
          // The judge must always answer; count and keep the first few (the lead's bug list).
          cell.threw++;
          if (cell.errors.length < 3) cell.errors.push({ seed: scenario.seed, error: String(error && error.message) });
          continue;
        }
        judgeCalls += r.looks;
        cell[r.verdict]++;
        if (r.verdict === 'promote' && !r.enoughEvidence) cell.promotedWithoutEvidence++;
        if (r.verdict === 'rollback') {
          cell.times.push(r.atSeconds);
          if (r.atSeconds <= 300) cell.within5++;
          if (r.phase === 'mid-window') cell.midWindow++;
          for (const m of r.judgement.metrics.filter((x) => x.failed)) cell.causes[m.name] = (cell.causes[m.name] || 0) + 1;
          if (kind.startsWith('healthy') && cell.examples.length < 5) cell.examples.push({ seed: scenario.seed, atSeconds: r.atSeconds, message: sim.message(r) });
        }
      }
      cell.times.sort((a, b) => a - b);
      cell.medianSeconds = quantile(cell.times, 0.5);
      cell.p90Seconds = quantile(cell.times, 0.9);
      cell.ms = Math.round(performance.now() - t0);
      delete cell.times;
      row.modes[mode] = cell;
    }
    results.push(row);
    const brief = args.modes.map((m) => `${m} ${row.modes[m].rollback}/${runs} rolled back, median ${row.modes[m].medianSeconds ?? '-'} s (${row.modes[m].ms} ms)`).join('; ');
    process.stderr.write(`${name} @ ${level} req/s: ${brief}\n`);
  }
}
const seconds = (performance.now() - started) / 1000;

// ---------------------------------------------------------------------------------------------
// Report

const lines = [];
const header = ['scenario', 'canary req/s', 'runs'];
for (const mode of args.modes) header.push(`${mode}: rolled back`, `${mode}: time to rollback, median (p90) s`);
if (args.modes.includes('sequential')) header.push('sequential: rolled back within 5 min');
header.push('other verdicts (fixed / sequential)', 'promoted below minimum evidence');
lines.push(`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`);
for (const row of results) {
  const cells = [row.name, String(row.level), String(row.runs)];
  for (const mode of args.modes) {
    const c = row.modes[mode];
    cells.push(pct(c.rollback, row.runs), c.medianSeconds === null ? '-' : `${c.medianSeconds} (${c.p90Seconds})`);
  }
  if (args.modes.includes('sequential')) cells.push(pct(row.modes.sequential.within5, row.runs));
  cells.push(args.modes.map((m) => `${row.modes[m].promote} promoted, ${row.modes[m].insufficient} insufficient${row.modes[m].threw ? `, **${row.modes[m].threw} judge errors**` : ''}`).join(' / '));
  cells.push(String(args.modes.reduce((s, m) => s + row.modes[m].promotedWithoutEvidence, 0)));
  lines.push(`| ${cells.join(' | ')} |`);
}
console.log(`Canary judge power: reference preset, 1m warm-up + 10m window (21m where noted), 30s interval, latency ${args.latency === 'exact' ? 'exact p99' : "read through Istio's default buckets"}; seed ${args.seed}; ${judgeCalls} judge calls in ${seconds.toFixed(0)} s`);
console.log();
console.log(lines.join('\n'));
console.log();

// Causes of false rollbacks, and the targets
for (const row of results.filter((r) => r.kind.startsWith('healthy'))) {
  for (const mode of args.modes) {
    const c = row.modes[mode];
    if (c.rollback > 0) console.log(`false rollbacks, ${row.name} @ ${row.level} req/s, ${mode}: ${c.rollback} (${pct(c.rollback, row.runs)}); failing metrics ${JSON.stringify(c.causes)}; e.g. ${c.examples.map((e) => `seed ${e.seed} at ${e.atSeconds}s: ${e.message}`).join(' | ')}`);
  }
}
for (const row of results) {
  for (const mode of args.modes) {
    const c = row.modes[mode];
    if (c.threw > 0) console.log(`judge threw, ${row.name} @ ${row.level} req/s, ${mode}: ${c.threw} of ${row.runs} runs; e.g. ${c.errors.map((e) => `seed ${e.seed}: ${e.error}`).join(' | ')}`);
  }
}
const targets = [];
const worstHealthy = Math.max(...results.filter((r) => r.kind === 'healthy').flatMap((r) => args.modes.map((m) => r.modes[m].rollback / r.runs)));
targets.push({ target: 'false rollbacks <= 1% (healthy, every level and mode)', measured: `worst ${(100 * worstHealthy).toFixed(2)}%`, met: worstHealthy <= 0.01 });
const err1 = results.find((r) => r.name === '5xx 0.1% -> 1%' && r.level === 10);
if (err1 && err1.modes.sequential) {
  const share = err1.modes.sequential.within5 / err1.runs;
  targets.push({ target: '5xx 0.1% -> 1% at 10 req/s: >= 95% rolled back within 5 min (sequential)', measured: `${(100 * share).toFixed(1)}% (median ${err1.modes.sequential.medianSeconds} s)`, met: share >= 0.95 });
}
if (err1 && err1.modes.fixed) {
  const share = err1.modes.fixed.within5 / err1.runs;
  targets.push({ target: '5xx 0.1% -> 1% at 10 req/s: >= 95% rolled back within 5 min (fixed)', measured: `${(100 * share).toFixed(1)}% (median ${err1.modes.fixed.medianSeconds} s)`, met: share >= 0.95 });
}
for (const row of results.filter((r) => r.name.startsWith('CPU +190%'))) {
  for (const mode of args.modes) {
    const c = row.modes[mode];
    targets.push({ target: `the talk's incident @ ${row.level} req/s rolled back within one window (${mode})`, measured: `${pct(c.rollback, row.runs)}, p90 ${c.p90Seconds} s`, met: c.rollback === row.runs && (c.p90Seconds ?? Infinity) <= row.minutes * 60 });
  }
}
const noEvidence = results.reduce((s, r) => s + args.modes.reduce((t, m) => t + r.modes[m].promotedWithoutEvidence, 0), 0);
targets.push({ target: '0 promotions with less than the minimum evidence (all runs)', measured: String(noEvidence), met: noEvidence === 0 });
const threw = results.reduce((s, r) => s + args.modes.reduce((t, m) => t + r.modes[m].threw, 0), 0);
targets.push({ target: 'the judge answers every look (no exception)', measured: `${threw} runs threw`, met: threw === 0 });
console.log();
console.log('| target | measured | met |\n| --- | --- | --- |');
for (const t of targets) console.log(`| ${t.target} | ${t.measured} | ${t.met ? 'yes' : '**no**'} |`);

if (args.json) {
  require('node:fs').writeFileSync(args.json, JSON.stringify({ args, seconds, judgeCalls, results, targets }, null, 2));
  console.log(`\nwrote ${args.json}`);
}
