/**
 * Validation of the shift's `analysis` block and of each `steps[i].analysis`, called from the shared
 * validator (../validate.ts) so the Deck editor and the service report the same problems. Every
 * problem names its field and the fix; the result is a NormalizedAnalysis (seconds, defaults).
 */
import { parseDurationSeconds, formatDuration } from '../duration';
import { absent, Checker, isPlainObject, type Problem } from '../checker';
import { REFERENCE_THRESHOLDS, JudgeSpec, NodataPolicy, FailDirection, FAIL_DIRECTIONS, BuiltInMetric } from './spec';
import {
  ANALYSIS_DEFAULTS,
  ANALYSIS_LIMITS,
  BUILT_IN_METRICS,
  EVIDENCE_DEFAULTS,
  NormalizedEvidence,
  defaultCritical,
  DEFAULT_DIRECTION,
  NormalizedAnalysis,
  NormalizedMetric,
  NormalizedStepAnalysis,
  NormalizedWorkloadScope,
  defaultGroup,
  defaultJudge,
} from './normalized';
import { REFERENCE_METRICS } from './preset';
import { templateVariables, TEMPLATE_VARIABLES } from './template-variables';

const ANALYSIS_FIELDS = ['source', 'scopes', 'warmup', 'interval', 'metrics', 'groups', 'thresholds', 'onFailure', 'mode', 'alpha', 'evidence'];
const EVIDENCE_FIELDS = ['minRequests', 'minTrafficShare', 'minPoints', 'extendUpTo', 'onInsufficient'];
const SCOPES_FIELDS = ['canary', 'baseline'];
const SCOPE_FIELDS = ['namespace', 'workload', 'podSelector'];
const METRIC_FIELDS = ['name', 'metric', 'query', 'group', 'direction', 'critical', 'nodata', 'judge', 'failAfterSamples'];
const THRESHOLDS_FIELDS = ['pass', 'marginal'];
const STEP_ANALYSIS_FIELDS = ['skip', 'warmup', 'interval'];
const DIRECTIONS = FAIL_DIRECTIONS;
const NODATA: NodataPolicy[] = ['fail', 'pass', 'wait'];

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** SpEL is not evaluated inside the analysis block: a name with one is reported as such. */
function named(p: Checker, field: string, value: unknown, pattern: RegExp, maxLength: number, describe: string): string | undefined {
  return p.string(field, value, { required: true, pattern, maxLength, describe });
}

const DURATION_EXAMPLES = ['30s', '1m', '1m30s'];

function checkSource(p: Checker, value: unknown): string | undefined {
  if (typeof value === 'string' && (value.includes('://') || value.includes('/'))) {
    p.rule('analysis.source', `analysis.source "${value}" looks like an address: give the name of a metrics source configured in the stage service (e.g. prometheus); the pipeline never chooses an address the service calls`);
    return undefined;
  }
  return named(p, 'analysis.source', value, DNS_LABEL, 63, 'the name of a metrics source configured in the stage service, e.g. prometheus');
}

function checkPodSelector(p: Checker, field: string, value: unknown): Record<string, string> | undefined {
  if (absent(value)) return undefined;
  if (!isPlainObject(value) || Object.keys(value).length === 0) {
    p.rule(field, `${field} must be an object of pod labels such as {"app": "checkout", "track": "canary"}`);
    return undefined;
  }
  const selector: Record<string, string> = {};
  for (const [key, label] of Object.entries(value)) {
    const slash = key.indexOf('/');
    const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
    const name = slash >= 0 ? key.slice(slash + 1) : key;
    const keyOk = name.length <= 63 && LABEL_NAME.test(name) && (prefix === undefined || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix)));
    if (!keyOk) p.rule(`${field}.${key}`, `${field} has the label key "${key}", which is not a Kubernetes label key: use [prefix/]name with letters, digits, -, _ and . (name at most 63 characters)`);
    if (typeof label !== 'string' || label.length > 63 || (label !== '' && !LABEL_NAME.test(label))) {
      p.rule(`${field}.${key}`, `${field}.${key} must be a label value: at most 63 letters, digits, -, _ and ., starting and ending with a letter or digit`);
      continue;
    }
    if (keyOk) selector[key] = label;
  }
  return selector;
}

function checkScope(p: Checker, field: string, value: unknown, namespace: string | undefined): NormalizedWorkloadScope | undefined {
  if (!isPlainObject(value)) {
    p.rule(field, `${field} is required: give the workload, e.g. {"workload": "checkout-canary"}`);
    return undefined;
  }
  p.unknownFields(field, value, SCOPE_FIELDS);
  const workload = named(p, `${field}.workload`, value.workload, DNS_SUBDOMAIN, 253, "the Deployment name as Istio's destination_workload sees it, e.g. checkout-canary (lower case letters, digits, - and .)");
  const ns = absent(value.namespace) ? namespace : named(p, `${field}.namespace`, value.namespace, DNS_LABEL, 63, 'a Kubernetes namespace name (lower case letters, digits and -)');
  const podSelector = checkPodSelector(p, `${field}.podSelector`, value.podSelector);
  if (!workload || !ns) return undefined;
  return podSelector ? { namespace: ns, workload, podSelector } : { namespace: ns, workload };
}

const MAX = Number.MAX_VALUE;
type JudgeBound = [key: string, min: number, max: number, describe: string];
/** Each judge type's bounds, in the order they are checked and listed as its known fields. */
const JUDGE_BOUNDS: Record<JudgeSpec['type'], JudgeBound[]> = {
  statistical: [
    ['allowedIncrease', 1, 100, 'the canary/baseline mean ratio above which an increase fails, e.g. 1.1 for +10%'],
    ['allowedDecrease', 0, 1, 'the canary/baseline mean ratio below which a decrease fails, e.g. 0.9 for -10%'],
  ],
  threshold: [
    ['min', -MAX, MAX, "an absolute bound on the canary's mean value"],
    ['max', -MAX, MAX, "an absolute bound on the canary's mean value"],
    ['minRatio', 0, 1000, 'a bound on canary mean / baseline mean, e.g. 1.2'],
    ['maxRatio', 0, 1000, 'a bound on canary mean / baseline mean, e.g. 1.2'],
    ['maxIncrease', 0, MAX, "how far the canary's mean may be above the baseline's, e.g. 0 restarts"],
    ['maxDecrease', 0, MAX, "how far the canary's mean may be below the baseline's, e.g. 0 for readiness"],
  ],
  errors: [
    ['maxRatio', 1, 1000, "how many times the baseline's error rate the canary may have, e.g. 2"],
    ['maxIncrease', 0, 100, "how many percentage points the canary's error rate may be above the baseline's, e.g. 0.1"],
  ],
};

function checkJudge(p: Checker, field: string, value: unknown, metric: BuiltInMetric | 'custom', direction: FailDirection): JudgeSpec | undefined {
  if (absent(value)) return defaultJudge(metric);
  if (!isPlainObject(value)) {
    p.rule(field, `${field} must be an object such as {"type": "statistical"} or {"type": "threshold", "max": 0}`);
    return undefined;
  }
  const type = value.type as JudgeSpec['type'];
  if (!Object.keys(JUDGE_BOUNDS).includes(type)) {
    p.rule(`${field}.type`, `${field}.type must be statistical, threshold or errors (got ${JSON.stringify(value.type)})`);
    return undefined;
  }
  const bounds = JUDGE_BOUNDS[type];
  p.unknownFields(field, value, ['type', ...bounds.map(([key]) => key)]);
  if (type === 'errors' && metric !== 'success-rate') {
    p.rule(`${field}.type`, `${field}.type errors judges request and 5xx counts, which only the success-rate metric has: use statistical or threshold, or set the metric to success-rate`);
    return undefined;
  }
  const judge: Record<string, unknown> = { type };
  for (const [key, min, max, describe] of bounds) {
    if (absent(value[key])) continue;
    const n = p.number(`${field}.${key}`, value[key], min, max, describe);
    // A statistical allowance of the direction the metric does not fail in is never used.
    const [wanted, other] = key === 'allowedIncrease' ? ['increase', 'decrease'] : ['decrease', 'increase'];
    if (type === 'statistical' && direction === other) {
      p.rule(`${field}.${key}`, `${field}.${key} has no effect with direction ${other}: remove it, or set direction to ${wanted} or either`);
    }
    if (n !== undefined) judge[key] = n;
  }
  if (type === 'threshold') {
    const t = judge as JudgeSpec & { type: 'threshold' };
    if (bounds.every(([key]) => absent(value[key]))) {
      p.rule(field, `${field} is a threshold judge without bounds: give at least one of min, max, minRatio, maxRatio, maxIncrease, maxDecrease`);
    }
    if (t.min !== undefined && t.max !== undefined && t.min > t.max) p.rule(`${field}.min`, `${field}.min (${t.min}) is above ${field}.max (${t.max}): swap them`);
    if (t.minRatio !== undefined && t.maxRatio !== undefined && t.minRatio > t.maxRatio) p.rule(`${field}.minRatio`, `${field}.minRatio (${t.minRatio}) is above ${field}.maxRatio (${t.maxRatio}): swap them`);
  }
  return judge as JudgeSpec;
}

function checkMetric(p: Checker, field: string, value: unknown): NormalizedMetric | undefined {
  if (!isPlainObject(value)) {
    p.rule(field, `${field} must be an object such as {"name": "latency", "metric": "latency-p99"}`);
    return undefined;
  }
  p.unknownFields(field, value, METRIC_FIELDS);
  const name = named(p, `${field}.name`, value.name, NAME, 63, 'a short unique name such as latency-p99');
  const kinds = [...BUILT_IN_METRICS, 'custom'] as const;
  if (absent(value.metric) || !(kinds as readonly unknown[]).includes(value.metric)) {
    p.rule(`${field}.metric`, absent(value.metric)
      ? `${field}.metric is required: give a built-in metric (${BUILT_IN_METRICS.join(', ')}) or custom with a query`
      : `${field}.metric ${JSON.stringify(value.metric)} is not a built-in metric: use one of ${BUILT_IN_METRICS.join(', ')}, or custom with a query`);
    return undefined;
  }
  const metric = value.metric as BuiltInMetric | 'custom';
  let query: string | undefined;
  if (metric === 'custom') {
    if (absent(value.query) || typeof value.query !== 'string') {
      p.rule(`${field}.query`, `${field}.query is required for a custom metric: give a PromQL template returning one series, e.g. sum(rate(http_errors_total{namespace="{{namespace}}",pod=~"{{workload}}-.*"}[{{interval}}]))`);
    } else if (value.query.length > ANALYSIS_LIMITS.maxQueryLength) {
      p.rule(`${field}.query`, `${field}.query is ${value.query.length} characters long; shorten it to at most ${ANALYSIS_LIMITS.maxQueryLength}`);
    } else {
      const unknown = templateVariables(value.query).filter((v) => !(TEMPLATE_VARIABLES as readonly string[]).includes(v));
      if (unknown.length > 0) {
        p.rule(`${field}.query`, `${field}.query uses ${unknown.map((v) => `{{${v}}}`).join(', ')}, which the service does not replace: use only ${TEMPLATE_VARIABLES.map((v) => `{{${v}}}`).join(', ')}`);
      } else query = value.query;
    }
  } else if (!absent(value.query)) {
    p.rule(`${field}.query`, `${field}.query applies to custom metrics only: remove it, or set ${field}.metric to custom`);
  }
  const group = absent(value.group) ? defaultGroup(metric) : named(p, `${field}.group`, value.group, NAME, 63, 'a group name such as istio or kubernetes');
  const direction = p.oneOf(`${field}.direction`, value.direction, DIRECTIONS, DEFAULT_DIRECTION[metric]);
  const critical = p.boolean(`${field}.critical`, value.critical, defaultCritical(metric));
  const nodata = p.oneOf(`${field}.nodata`, value.nodata, NODATA, 'fail');
  const judge = checkJudge(p, `${field}.judge`, value.judge, metric, direction);
  // Deprecated (sequential testing replaced it): still accepted, so stored shifts and old pipelines
  // stay valid, and kept as given; nothing acts on it.
  let failAfterSamples: number | undefined;
  if (!absent(value.failAfterSamples)) {
    const n = p.number(`${field}.failAfterSamples`, value.failAfterSamples, 0, ANALYSIS_LIMITS.maxFailAfterSamples, 'nothing: it is deprecated and ignored (analysis.mode sequential stops a bad canary early); remove it');
    if (n !== undefined && !Number.isInteger(n)) p.rule(`${field}.failAfterSamples`, `${field}.failAfterSamples must be a whole number (got ${n}); it is deprecated and ignored: remove it`);
    else if (n !== undefined) failAfterSamples = n;
  }
  if (!name || !group || !judge || (metric === 'custom' && !query)) return undefined;
  const normalized: NormalizedMetric = { name, metric, group, direction, critical, nodata, judge };
  if (failAfterSamples !== undefined) normalized.failAfterSamples = failAfterSamples;
  if (query) normalized.query = query;
  return normalized;
}

function checkMetrics(p: Checker, value: unknown): NormalizedMetric[] | undefined {
  const list = absent(value) ? REFERENCE_METRICS : value;
  if (!Array.isArray(list) || list.length === 0 || list.length > ANALYSIS_LIMITS.maxMetrics) {
    p.rule('analysis.metrics', `analysis.metrics must be a list of 1 to ${ANALYSIS_LIMITS.maxMetrics} metrics (or leave it out for the reference preset)`);
    return undefined;
  }
  const metrics = list.map((entry, i) => checkMetric(p, `analysis.metrics[${i}]`, entry));
  const seen = new Map<string, number>();
  metrics.forEach((metric, i) => {
    if (!metric) return;
    const first = seen.get(metric.name);
    if (first !== undefined) p.rule(`analysis.metrics[${i}].name`, `analysis.metrics[${i}].name "${metric.name}" repeats analysis.metrics[${first}]: give each metric a unique name`);
    else seen.set(metric.name, i);
  });
  return metrics.every((m) => m !== undefined) ? (metrics as NormalizedMetric[]) : undefined;
}

function checkGroups(p: Checker, value: unknown, metrics: NormalizedMetric[] | undefined, metricsOmitted: boolean): Record<string, number> {
  const raw = absent(value) ? (metricsOmitted ? { istio: 60, kubernetes: 40 } : {}) : value;
  if (!isPlainObject(raw)) {
    p.rule('analysis.groups', 'analysis.groups must be an object of group weights such as {"istio": 60, "kubernetes": 40}');
    return {};
  }
  const groups: Record<string, number> = {};
  for (const [name, weight] of Object.entries(raw)) {
    const n = p.number(`analysis.groups.${name}`, weight, 0, 100, 'a weight from 0 to 100');
    if (n !== undefined) groups[name] = n;
  }
  const sum = Object.values(groups).reduce((a, b) => a + b, 0);
  if (sum > 100) p.rule('analysis.groups', `analysis.groups sum to ${sum}; the weights must sum to at most 100 (remove ${sum - 100})`);
  if (metrics) {
    const used = new Set(metrics.map((m) => m.group));
    for (const name of Object.keys(groups)) {
      if (!used.has(name)) p.rule(`analysis.groups.${name}`, `analysis.groups.${name} has a weight but no metric is in group "${name}": remove it, or set a metric's group to ${name}`);
    }
    const unweighted = [...used].filter((g) => groups[g] === undefined);
    if (sum < 100 && unweighted.length === 0 && Object.keys(groups).length > 0) {
      p.rule('analysis.groups', `analysis.groups sum to ${sum} and every group has a weight, so the score can never exceed ${sum}: make them sum to 100`);
    }
    // A metric in a group whose weight is 0 (given, or the share left when the given weights reach
    // 100) can never change the score: a High there would pass unseen. Critical metrics still count.
    const share = unweighted.length > 0 ? (100 - sum) / unweighted.length : 0;
    const weightOf = (group: string) => groups[group] ?? share;
    const silent = metrics.filter((m) => !m.critical && weightOf(m.group) <= 0);
    for (const group of new Set(silent.map((m) => m.group))) {
      const names = silent.filter((m) => m.group === group).map((m) => m.name).join(', ');
      const why = groups[group] === 0 ? `has weight 0` : `gets no weight (the other groups' weights already sum to ${sum})`;
      p.rule('analysis.groups', `analysis.groups: group "${group}" ${why}, so ${names} can never change the score: give "${group}" a weight (lower the others), or make the metric critical`);
    }
  }
  return groups;
}

function checkThresholds(p: Checker, value: unknown): { pass: number; marginal: number } {
  if (absent(value)) return { ...REFERENCE_THRESHOLDS };
  if (!isPlainObject(value)) {
    p.rule('analysis.thresholds', 'analysis.thresholds must be an object such as {"pass": 75, "marginal": 50}');
    return { ...REFERENCE_THRESHOLDS };
  }
  p.unknownFields('analysis.thresholds', value, THRESHOLDS_FIELDS);
  const pass = absent(value.pass) ? REFERENCE_THRESHOLDS.pass : p.number('analysis.thresholds.pass', value.pass, 0, 100, 'the score a step needs to pass');
  const marginal = absent(value.marginal) ? REFERENCE_THRESHOLDS.marginal : p.number('analysis.thresholds.marginal', value.marginal, 0, 100, 'the score below which a step fails at once');
  if (pass !== undefined && marginal !== undefined && marginal > pass) {
    p.rule('analysis.thresholds', `analysis.thresholds.marginal (${marginal}) is above pass (${pass}): marginal must be at most pass`);
  }
  return { pass: pass ?? REFERENCE_THRESHOLDS.pass, marginal: marginal ?? REFERENCE_THRESHOLDS.marginal };
}

function checkSteps(p: Checker, steps: unknown, warmupSeconds: number, intervalSeconds: number): NormalizedStepAnalysis[] {
  if (!Array.isArray(steps)) return [];
  const result = steps.map((entry, i): NormalizedStepAnalysis => {
    const field = `steps[${i}].analysis`;
    const step = isPlainObject(entry) ? entry : {};
    const own = step.analysis;
    let skip = false;
    let warmup = warmupSeconds;
    let interval = intervalSeconds;
    if (!absent(own)) {
      if (!isPlainObject(own)) p.rule(field, `${field} must be an object such as {"warmup": "1m"} or {"skip": true}`);
      else {
        p.unknownFields(field, own, STEP_ANALYSIS_FIELDS);
        skip = p.boolean(`${field}.skip`, own.skip, false);
        warmup = p.duration(`${field}.warmup`, own.warmup, warmupSeconds, 0, 24 * 3600, DURATION_EXAMPLES);
        interval = p.duration(`${field}.interval`, own.interval, intervalSeconds, ANALYSIS_LIMITS.minIntervalSeconds, ANALYSIS_LIMITS.maxIntervalSeconds, DURATION_EXAMPLES);
      }
    }
    const rawPause = step.pause;
    // A SpEL pause (Deck only; the service gets it evaluated) is checked when Orca has evaluated it.
    if (!skip && typeof rawPause === 'string' && rawPause.includes('${')) return { analysed: true, warmupSeconds: warmup, intervalSeconds: interval, windowSeconds: 0 };
    const pause = typeof rawPause === 'string' || typeof rawPause === 'number' ? parseDurationSeconds(rawPause) : absent(rawPause) ? 0 : undefined;
    const skipped: NormalizedStepAnalysis = { analysed: false, warmupSeconds: warmup, intervalSeconds: interval, windowSeconds: 0 };
    // A step without a pause has nothing to watch; an unparseable pause is reported by the shift validator.
    if (skip || pause === undefined || pause === 0) return skipped;
    if (pause < warmup) {
      p.rule(`steps[${i}].pause`, `steps[${i}].pause (${formatDuration(pause)}) is shorter than its analysis warm-up (${formatDuration(warmup)}): lengthen the pause, shorten ${field}.warmup, or set ${field}.skip`);
      return skipped;
    }
    const window = pause - warmup;
    if (window < 2 * interval) {
      p.rule(`steps[${i}].pause`, `steps[${i}] leaves an analysis window of ${formatDuration(window)} (pause ${formatDuration(pause)} - warm-up ${formatDuration(warmup)}), shorter than two ${formatDuration(interval)} intervals: lengthen the pause to at least ${formatDuration(warmup + 2 * interval)}, or shorten the warm-up or interval`);
    }
    return { analysed: true, warmupSeconds: warmup, intervalSeconds: interval, windowSeconds: window };
  });
  return result;
}

function checkEvidence(p: Checker, value: unknown): NormalizedEvidence {
  const evidence: NormalizedEvidence = { ...EVIDENCE_DEFAULTS };
  if (absent(value)) return evidence;
  if (!isPlainObject(value)) {
    p.rule('analysis.evidence', 'analysis.evidence must be an object such as {"minRequests": 50, "minTrafficShare": 0.5}');
    return evidence;
  }
  p.unknownFields('analysis.evidence', value, EVIDENCE_FIELDS);
  const whole = (field: string, raw: unknown, max: number, describe: string, fallback: number) => {
    if (absent(raw)) return fallback;
    const n = p.number(field, raw, 0, max, describe);
    if (n !== undefined && !Number.isInteger(n)) p.rule(field, `${field} must be a whole number (got ${n})`);
    return n !== undefined && Number.isInteger(n) ? n : fallback;
  };
  evidence.minRequests = whole('analysis.evidence.minRequests', value.minRequests, ANALYSIS_LIMITS.maxMinRequests, 'the canary requests a window must hold before it may pass (0: no minimum)', evidence.minRequests);
  evidence.minPoints = whole('analysis.evidence.minPoints', value.minPoints, ANALYSIS_LIMITS.maxMinPoints, 'the points each statistical metric needs per scope', evidence.minPoints);
  if (!absent(value.minTrafficShare)) {
    const n = p.number('analysis.evidence.minTrafficShare', value.minTrafficShare, 0, 1, "the share of its expected traffic the canary must get, e.g. 0.5 (0: not checked)");
    if (n !== undefined) evidence.minTrafficShare = n;
  }
  if (!absent(value.extendUpTo)) evidence.extendSeconds = p.duration('analysis.evidence.extendUpTo', value.extendUpTo, 0, 0, 24 * 3600, DURATION_EXAMPLES);
  evidence.onInsufficient = p.oneOf('analysis.evidence.onInsufficient', value.onInsufficient, ['fail', 'hold'] as const, evidence.onInsufficient);
  return evidence;
}

export interface AnalysisContext {
  /** The shift's namespace (the scopes' default), if valid. */
  namespace?: string;
  /** The raw `steps` of the shift, for their pauses and `analysis` overrides. */
  steps: unknown;
}

export function validateAnalysis(value: unknown, context: AnalysisContext): { analysis?: NormalizedAnalysis; problems: Problem[] } {
  const p = new Checker('unsupported');
  if (absent(value)) {
    if (Array.isArray(context.steps)) {
      context.steps.forEach((step, i) => {
        if (isPlainObject(step) && !absent(step.analysis)) p.rule(`steps[${i}].analysis`, `steps[${i}].analysis is set but the shift has no analysis block: add analysis, or remove steps[${i}].analysis`);
      });
    }
    return { problems: p.problems };
  }
  if (!isPlainObject(value)) {
    p.rule('analysis', 'analysis must be an object such as {"source": "prometheus", "scopes": {"canary": {"workload": "checkout-canary"}, "baseline": {"workload": "checkout-baseline"}}}');
    return { problems: p.problems };
  }
  p.unknownFields('analysis', value, ANALYSIS_FIELDS);
  const source = checkSource(p, value.source);
  let scopes: NormalizedAnalysis['scopes'] | undefined;
  if (!isPlainObject(value.scopes)) {
    p.rule('analysis.scopes', 'analysis.scopes is required: give {"canary": {"workload": ...}, "baseline": {"workload": ...}}');
  } else {
    p.unknownFields('analysis.scopes', value.scopes, SCOPES_FIELDS);
    const canary = checkScope(p, 'analysis.scopes.canary', value.scopes.canary, context.namespace);
    const baseline = checkScope(p, 'analysis.scopes.baseline', value.scopes.baseline, context.namespace);
    if (canary && baseline && canary.namespace === baseline.namespace && canary.workload === baseline.workload) {
      p.rule('analysis.scopes.baseline', `analysis.scopes.baseline is the same workload as the canary (${canary.namespace}/${canary.workload}): compare the canary with a separate baseline Deployment`);
    } else if (canary && baseline) scopes = { canary, baseline };
  }
  const warmupSeconds = p.duration('analysis.warmup', value.warmup, parseDurationSeconds(ANALYSIS_DEFAULTS.warmup) as number, 0, 24 * 3600, DURATION_EXAMPLES);
  const intervalSeconds = p.duration('analysis.interval', value.interval, parseDurationSeconds(ANALYSIS_DEFAULTS.interval) as number, ANALYSIS_LIMITS.minIntervalSeconds, ANALYSIS_LIMITS.maxIntervalSeconds, DURATION_EXAMPLES);
  const metrics = checkMetrics(p, value.metrics);
  const groups = checkGroups(p, value.groups, metrics, absent(value.metrics));
  const thresholds = checkThresholds(p, value.thresholds);
  const onFailure = p.oneOf('analysis.onFailure', value.onFailure, ['rollback', 'hold'] as const, ANALYSIS_DEFAULTS.onFailure);
  const mode = p.oneOf('analysis.mode', value.mode, ['sequential', 'fixed'] as const, ANALYSIS_DEFAULTS.mode);
  const alpha = absent(value.alpha)
    ? ANALYSIS_DEFAULTS.alpha
    : (p.number('analysis.alpha', value.alpha, ANALYSIS_LIMITS.minAlpha, ANALYSIS_LIMITS.maxAlpha, 'the chance of rolling back a good canary over a whole step, e.g. 0.01') ?? ANALYSIS_DEFAULTS.alpha);
  const evidence = checkEvidence(p, value.evidence);
  const steps = checkSteps(p, context.steps, warmupSeconds, intervalSeconds);
  if (Array.isArray(context.steps) && steps.length > 0 && !steps.some((s) => s.analysed) && p.problems.length === 0) {
    p.rule('steps', 'analysis is set but no step has a pause to analyse: give the steps to judge a pause longer than the warm-up, or remove analysis');
  }
  if (p.problems.length > 0 || !source || !scopes || !metrics) return { problems: p.problems };
  return { analysis: { source, scopes, warmupSeconds, intervalSeconds, metrics, groups, thresholds, onFailure, mode, alpha, evidence, steps }, problems: [] };
}
