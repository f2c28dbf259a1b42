/**
 * Who changed a route, from the object's metadata.managedFields (server-side apply's field
 * ownership; format facts and commits in docs/gitops.md):
 * - each entry is { manager, operation: Apply | Update, apiVersion, time, fieldsType: FieldsV1,
 *   fieldsV1, subresource } (k8s.io/apimachinery meta/v1 ManagedFieldsEntry);
 * - fieldsV1 is a trie of path elements: `f:<field>`, `i:<index>`, `k:<keys>`, `v:<value>`, and
 *   `.` for the node itself (structured-merge-diff fieldpath/serialize-pe.go);
 * - a list without x-kubernetes-list-type is atomic, so it is owned whole: Istio's CRDs declare none,
 *   and `spec.http` appears as `f:http: {}`, owned by whoever last wrote any route of it.
 * An Update that changes a field takes it from every other manager; a forced Apply does too. So the
 * manager(s) owning the shifted route after another writer's change are that writer.
 */

/** The field manager of every write the service makes (our PATCHes pass fieldManager). */
export const OWN_FIELD_MANAGER = 'istio-traffic-shift';

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

type FieldsNode = Record<string, unknown>;

/**
 * Whether a fieldsV1 trie owns `path` or anything under it. A node with no children under the
 * path's next element but owning itself (atomic list, leaf) owns all of it. A list element named by
 * key or value (`k:`/`v:`, list-type map or set) cannot be matched to an index without the schema:
 * it counts as owning, so a writer is named rather than missed.
 */
function owns(node: FieldsNode, path: string[]): boolean {
  if (path.length === 0) return true;
  const children = Object.keys(node).filter((key) => key !== '.');
  if (children.length === 0) return true;
  const [head, ...rest] = path;
  if (/^\d+$/.test(head)) {
    const byIndex = node[`i:${head}`];
    if (byIndex && typeof byIndex === 'object') return owns(byIndex as FieldsNode, rest);
    return children.some((key) => key.startsWith('k:') || key.startsWith('v:'));
  }
  const child = node[`f:${head}`];
  return child !== undefined && child !== null && typeof child === 'object' && owns(child as FieldsNode, rest);
}

/** JSON pointer segments (RFC 6901 unescaped). */
function segments(pointer: string): string[] {
  return pointer.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function describe(entry: ManagedFieldsEntry): string {
  return `"${entry.manager ?? '(no manager)'}" (${entry.operation ?? 'unknown operation'}, ${entry.time ?? 'time unknown'})`;
}

const newestFirst = (a: ManagedFieldsEntry, b: ManagedFieldsEntry) => (b.time ?? '').localeCompare(a.time ?? '');

/**
 * Names the other writer(s) of the route at `routePointer` (e.g. /spec/http/1), or undefined when
 * managedFields tell nothing (none stored, or only our own entry). Falls back to the newest other
 * writer of spec when no entry owns the route.
 */
export function describeRouteWriters(entries: ManagedFieldsEntry[] | undefined, routePointer: string): string | undefined {
  // Only entries that own something of spec: an empty fieldsV1 owns nothing.
  const others = (entries ?? []).filter((e) => e.manager !== OWN_FIELD_MANAGER && !e.subresource && e.fieldsV1 && e.fieldsV1['f:spec'] !== undefined);
  const path = [...segments(routePointer), 'route'];
  const owners = others.filter((e) => owns(e.fieldsV1 as FieldsNode, path)).sort(newestFirst);
  if (owners.length > 0) return `changed by ${owners.map(describe).join(' and ')}`;
  const specWriter = [...others].sort(newestFirst)[0];
  return specWriter ? `the route has no owner in managedFields; the last other writer of spec was ${describe(specWriter)}` : undefined;
}
