/**
 * The Events `kubectl describe virtualservice` shows, read from the test API server: shared by the
 * service's and the Run Job CLI's Event tests.
 */
import { CoreEvent } from '../src/kube/event-types';
import { getVirtualService, rawRequest } from '../../test/cluster/test-helpers';

/**
 * kubectl describe's exact field selector (kubectl pkg/describe searchEvents -> client-go
 * EventInterface.GetFieldSelector: involvedObject.{kind,name,namespace,uid}, keys sorted as
 * fields.Set.AsSelector().String() sorts them), ordered by lastTimestamp as kubectl's
 * SortableEvents does; within one second by creation (the name's hex nanoseconds).
 */
export async function describeEvents(namespace: string, name: string): Promise<CoreEvent[]> {
  const vs = await getVirtualService(namespace, name);
  const selector = `involvedObject.kind=VirtualService,involvedObject.name=${name},involvedObject.namespace=${namespace},involvedObject.uid=${vs.metadata.uid}`;
  const response = await rawRequest(`/api/v1/namespaces/${namespace}/events?fieldSelector=${encodeURIComponent(selector)}`);
  if (response.status !== 200) throw new Error(`listing the Events of ${namespace}/${name}: HTTP ${response.status}: ${response.body}`);
  const items = (JSON.parse(response.body) as { items: CoreEvent[] }).items;
  return items.sort((a, b) => a.lastTimestamp.localeCompare(b.lastTimestamp) || a.metadata.name.localeCompare(b.metadata.name));
}
