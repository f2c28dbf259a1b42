/**
 * JSON Patch (RFC 6902) building. Every patch starts with `test` operations on what was read, so
 * the API server applies it only if nobody changed those parts in between; then it touches only
 * the selected route's destination list (weights, and destinations added or pruned) and the
 * shift's own annotation.
 */
import { IstioRouteDestination, destinationKey, fromIstio } from './destinations';

export type PatchOperation =
  | { op: 'test' | 'add' | 'replace'; path: string; value: unknown }
  | { op: 'remove'; path: string };

/** Escapes one JSON Pointer segment (RFC 6901): "~" becomes "~0", "/" becomes "~1". */
export function escapePointerSegment(segment: string | number): string {
  return String(segment).replace(/~/g, '~0').replace(/\//g, '~1');
}

export function pointer(...segments: Array<string | number>): string {
  return segments.map((s) => `/${escapePointerSegment(s)}`).join('');
}

const identity = (entry: IstioRouteDestination) => destinationKey(fromIstio(entry));

/**
 * Operations that turn the destination list `current` (at `routePointer`/route) into `target`.
 * Entries are matched by identity (host, subset, port): removals first in descending index order,
 * then in-place weight changes and insertions in ascending order, so every index is valid at the
 * moment its operation applies. Fields other than `weight` of kept entries are never written.
 */
export function destinationOperations(
  routePointer: string,
  current: IstioRouteDestination[],
  target: IstioRouteDestination[],
): PatchOperation[] {
  const ops: PatchOperation[] = [];
  const targetKeys = new Set(target.map(identity));
  const working = current.slice();
  for (let i = working.length - 1; i >= 0; i--) {
    if (!targetKeys.has(identity(working[i]))) {
      ops.push({ op: 'remove', path: `${routePointer}/route/${i}` });
      working.splice(i, 1);
    }
  }
  for (let j = 0; j < target.length; j++) {
    const wanted = target[j];
    const entryPointer = `${routePointer}/route/${j}`;
    if (j < working.length && identity(working[j]) === identity(wanted)) {
      const had = working[j].weight;
      if (wanted.weight === undefined && had !== undefined) ops.push({ op: 'remove', path: `${entryPointer}/weight` });
      else if (wanted.weight !== undefined && had === undefined) ops.push({ op: 'add', path: `${entryPointer}/weight`, value: wanted.weight });
      else if (wanted.weight !== had) ops.push({ op: 'replace', path: `${entryPointer}/weight`, value: wanted.weight });
    } else {
      ops.push({ op: 'add', path: entryPointer, value: wanted });
      working.splice(j, 0, wanted);
    }
  }
  if (working.length !== target.length) {
    // Kept entries appear in a different order in the target (only a hand-edited rollback target
    // can do that): replacing the list is the one correct answer left, still guarded by `test`.
    return [{ op: 'replace', path: `${routePointer}/route`, value: target }];
  }
  return ops;
}

export interface AnnotationWrite {
  key: string;
  /** The annotation's value as read, or undefined when the object did not have it. */
  previous: string | undefined;
  next: string;
  /** Whether the object had a metadata.annotations map when read. */
  hadAnnotations: boolean;
  /** The resourceVersion read: the precondition when there is no previous value to test. */
  resourceVersion: string;
}

/**
 * Compare-and-swap of one annotation. With a previous value we test it; without one, JSON Patch
 * cannot test absence, so the whole object's resourceVersion is the precondition instead.
 */
export function annotationOperations(write: AnnotationWrite): PatchOperation[] {
  const path = pointer('metadata', 'annotations', write.key);
  if (write.previous !== undefined) {
    return [
      { op: 'test', path, value: write.previous },
      { op: 'replace', path, value: write.next },
    ];
  }
  const guard: PatchOperation = { op: 'test', path: '/metadata/resourceVersion', value: write.resourceVersion };
  if (!write.hadAnnotations) {
    return [guard, { op: 'add', path: '/metadata/annotations', value: { [write.key]: write.next } }];
  }
  return [guard, { op: 'add', path, value: write.next }];
}

export interface RouteWrite {
  routePointer: string;
  /** The whole route object as read: tested verbatim so a concurrent edit fails the patch. */
  routeAsRead: Record<string, unknown>;
  target: IstioRouteDestination[];
}

/** One atomic patch: guards on the route and the annotation, then the route and annotation writes. */
export function buildShiftPatch(route: RouteWrite | undefined, annotation: AnnotationWrite): PatchOperation[] {
  const annotationOps = annotationOperations(annotation);
  const guards = annotationOps.filter((op) => op.op === 'test');
  const writes = annotationOps.filter((op) => op.op !== 'test');
  if (!route) return [...guards, ...writes];
  const current = (route.routeAsRead.route ?? []) as IstioRouteDestination[];
  return [
    { op: 'test', path: route.routePointer, value: route.routeAsRead },
    ...guards,
    ...destinationOperations(route.routePointer, current, route.target),
    ...writes,
  ];
}
