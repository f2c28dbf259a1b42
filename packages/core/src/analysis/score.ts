/**
 * Kayenta's weighted-sum scorer: per group, the share of counted metrics that pass (Nodata under
 * policy "pass" is not counted; a group with nothing counted scores 100); groups without a weight
 * share 100 - the explicit weights equally; the score is forced to 0 by a failing critical metric
 * or when half or more of the metrics have no data. Pass at >= pass, Marginal at >= marginal.
 */
import { ScoreThresholds } from './spec';
import type { Classification } from './classify';

export type ScoreResult = 'Pass' | 'Marginal' | 'Fail';

export interface ScoredMetric {
  group: string;
  critical: boolean;
  classification: Classification;
}

export interface GroupScore {
  name: string;
  /** The weight the group got: explicit, or its share of the rest. */
  weight: number;
  score: number;
  /** Metrics counted in the score (all but Nodata under policy "pass"), and how many passed. */
  counted: number;
  passed: number;
}

export interface ScoreOutcome {
  score: number;
  result: ScoreResult;
  groups: GroupScore[];
  /** Why the score was forced to 0, if it was. */
  forcedZero?: 'critical' | 'nodata';
}

export const NODATA_FORCES_ZERO_AT = 0.5;

export const isFailure = (c: Classification) => c === 'High' || c === 'Low' || c === 'NodataFail';
const isNodata = (c: Classification) => c === 'Nodata' || c === 'NodataFail';

export function classifyScore(score: number, thresholds: ScoreThresholds): ScoreResult {
  if (score >= thresholds.pass) return 'Pass';
  return score >= thresholds.marginal ? 'Marginal' : 'Fail';
}

export function scoreMetrics(metrics: readonly ScoredMetric[], weights: Readonly<Record<string, number>>, thresholds: ScoreThresholds): ScoreOutcome {
  const names = [...new Set(metrics.map((m) => m.group))];
  const explicit = names.filter((name) => weights[name] !== undefined);
  const shared = names.length > explicit.length ? (100 - explicit.reduce((sum, name) => sum + weights[name], 0)) / (names.length - explicit.length) : 0;
  const groups = names.map((name): GroupScore => {
    const members = metrics.filter((m) => m.group === name && m.classification !== 'Nodata');
    const passed = members.filter((m) => m.classification === 'Pass').length;
    const score = members.length === 0 ? 100 : (passed / members.length) * 100;
    return { name, weight: weights[name] ?? Math.max(0, shared), score, counted: members.length, passed };
  });
  const weighted = groups.reduce((sum, g) => sum + (g.score * g.weight) / 100, 0);
  let forcedZero: ScoreOutcome['forcedZero'];
  if (metrics.some((m) => m.critical && isFailure(m.classification))) forcedZero = 'critical';
  else if (metrics.length > 0 && metrics.filter((m) => isNodata(m.classification)).length / metrics.length >= NODATA_FORCES_ZERO_AT) forcedZero = 'nodata';
  const score = forcedZero ? 0 : weighted;
  const outcome: ScoreOutcome = { score, result: classifyScore(score, thresholds), groups };
  if (forcedZero) outcome.forcedZero = forcedZero;
  return outcome;
}
