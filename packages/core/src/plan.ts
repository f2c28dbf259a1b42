/**
 * Planning: from (validated spec, live route) to the destination list each step should leave in
 * the route. Matching is recomputed from the live route every time, so the same functions serve
 * the first step (which may add or prune destinations), later steps and resumption after a crash.
 */
import {
  IstioRouteDestination,
  destinationKey,
  effectiveWeight,
  fromIstio,
  matchesDestination,
  toIstio,
} from './destinations';
import { SelectedRoute } from './routes';
import { NormalizedDestination, NormalizedShiftSpec, Problem } from './validate';

export interface DestinationMatch {
  /** For each spec destination, its index in the live route, or -1 when the route lacks it. */
  liveIndexBySpec: number[];
  /** Live indices that no spec destination names. */
  unlisted: number[];
}

export type MatchResult = { ok: true; match: DestinationMatch } | { ok: false; problems: Problem[] };

export function matchDestinations(
  destinations: NormalizedDestination[],
  live: IstioRouteDestination[],
  namespace: string,
): MatchResult {
  const problems: Problem[] = [];
  const claimedBy = new Map<number, number>();
  const liveIndexBySpec = destinations.map((spec, i) => {
    const candidates = live.map((entry, j) => (matchesDestination(spec, entry, namespace) ? j : -1)).filter((j) => j >= 0);
    if (candidates.length > 1) {
      const ports = candidates.map((j) => live[j].destination.port?.number ?? 'none').join(' and ');
      problems.push({
        field: `destinations[${i}]`,
        message: `destinations[${i}] (${destinationKey(spec)}) matches ${candidates.length} destinations of the route (ports ${ports}): give its port`,
      });
      return -1;
    }
    const j = candidates[0] ?? -1;
    if (j >= 0) {
      const other = claimedBy.get(j);
      if (other !== undefined) {
        problems.push({
          field: `destinations[${i}]`,
          message: `destinations[${i}] and destinations[${other}] both name the route's destination ${destinationKey(fromIstio(live[j]))}: list it once`,
        });
      }
      claimedBy.set(j, i);
    }
    return j;
  });
  if (problems.length) return { ok: false, problems };
  const unlisted = live.map((_, j) => j).filter((j) => !claimedBy.has(j));
  return { ok: true, match: { liveIndexBySpec, unlisted } };
}

export interface ShiftPlan {
  /** The route's destination list before the shift, verbatim: what a rollback restores. */
  originalDestinations: IstioRouteDestination[];
  /** Weights before the shift, aligned with the spec's destinations (0 for added ones). */
  originalWeights: number[];
  added: number[];
  pruned: IstioRouteDestination[];
}

export type PlanResult = { ok: true; plan: ShiftPlan } | { ok: false; problems: Problem[] };

/** Checks that a spec can shift this route, and records what the route looked like before. */
export function planShift(spec: NormalizedShiftSpec, selected: SelectedRoute): PlanResult {
  const matched = matchDestinations(spec.destinations, selected.destinations, spec.namespace);
  if (!matched.ok) return matched;
  const { liveIndexBySpec, unlisted } = matched.match;
  if (unlisted.length > 0 && !spec.pruneUnlisted) {
    const names = unlisted
      .map((j) => `${destinationKey(fromIstio(selected.destinations[j]))} (weight ${effectiveWeight(selected.destinations[j], selected.destinations.length)})`)
      .join(', ');
    return {
      ok: false,
      problems: [{
        field: 'destinations',
        message: `${selected.description} also routes to ${names}, which destinations does not list: add it to destinations, or set pruneUnlisted to true to remove it from the route`,
      }],
    };
  }
  const length = selected.destinations.length;
  return {
    ok: true,
    plan: {
      originalDestinations: clone(selected.destinations),
      originalWeights: liveIndexBySpec.map((j) => (j >= 0 ? effectiveWeight(selected.destinations[j], length) : 0)),
      added: liveIndexBySpec.map((j, i) => (j < 0 ? i : -1)).filter((i) => i >= 0),
      pruned: spec.pruneUnlisted ? unlisted.map((j) => clone(selected.destinations[j])) : [],
    },
  };
}

/**
 * The destination list that gives the spec's destinations these weights: live entries keep their
 * position and every field but `weight`; missing ones are appended; unlisted ones are dropped
 * (planShift has already refused them unless the spec prunes).
 */
export function destinationsForWeights(
  spec: Pick<NormalizedShiftSpec, 'destinations' | 'namespace'>,
  live: IstioRouteDestination[],
  weights: number[],
): IstioRouteDestination[] {
  const matched = matchDestinations(spec.destinations, live, spec.namespace);
  if (!matched.ok) throw new Error(matched.problems.map((p) => p.message).join('; '));
  const specIndexByLive = new Map<number, number>();
  matched.match.liveIndexBySpec.forEach((j, i) => j >= 0 && specIndexByLive.set(j, i));
  const target: IstioRouteDestination[] = [];
  live.forEach((entry, j) => {
    const i = specIndexByLive.get(j);
    if (i !== undefined) target.push({ ...clone(entry), weight: weights[i] });
  });
  matched.match.liveIndexBySpec.forEach((j, i) => {
    if (j < 0) target.push(toIstio(spec.destinations[i], weights[i]));
  });
  return target;
}

/** The weights a live route gives the spec's destinations (0 for absent ones). */
export function weightsOf(
  spec: Pick<NormalizedShiftSpec, 'destinations' | 'namespace'>,
  live: IstioRouteDestination[],
): number[] {
  return spec.destinations.map((d) => {
    const entry = live.find((e) => matchesDestination(d, e, spec.namespace));
    return entry ? effectiveWeight(entry, live.length) : 0;
  });
}

/**
 * What differs between the destinations we last wrote and those now in the route, in words, or
 * undefined when nothing that matters to traffic changed (other fields may change freely).
 */
export function describeDrift(expected: IstioRouteDestination[], actual: IstioRouteDestination[]): string | undefined {
  const keyOf = (e: IstioRouteDestination) => destinationKey(fromIstio(e));
  const weightOf = (list: IstioRouteDestination[]) => new Map(list.map((e) => [keyOf(e), effectiveWeight(e, list.length)]));
  const before = weightOf(expected);
  const after = weightOf(actual);
  const changes: string[] = [];
  for (const [key, weight] of before) {
    if (!after.has(key)) changes.push(`${key} was removed (it had weight ${weight})`);
    else if (after.get(key) !== weight) changes.push(`${key} has weight ${after.get(key)}, expected ${weight}`);
  }
  for (const [key, weight] of after) {
    if (!before.has(key)) changes.push(`${key} was added with weight ${weight}`);
  }
  return changes.length ? changes.join('; ') : undefined;
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
