/**
 * Naming who changed a route from managedFields (fieldsV1 tries as the API server stores them:
 * Istio's lists have no x-kubernetes-list-type, so `spec.http` is owned whole as `f:http: {}`).
 */
import { describeRouteWriters, ManagedFieldsEntry } from './managed-fields';

const ours: ManagedFieldsEntry = { manager: 'istio-traffic-shift', operation: 'Update', time: '2026-12-06T12:00:00Z', fieldsV1: { 'f:metadata': { 'f:annotations': { 'f:traffic-shift.spinnaker.io/shifts': {} } } } };
const deployer: ManagedFieldsEntry = { manager: 'spinnaker', operation: 'Apply', time: '2026-12-06T11:00:00Z', fieldsV1: { 'f:spec': { 'f:hosts': {}, 'f:gateways': {} } } };

describe('describeRouteWriters', () => {
  it('names the manager that owns the atomic http list, with operation and time', () => {
    const argo: ManagedFieldsEntry = { manager: 'argocd-controller', operation: 'Apply', time: '2026-12-06T12:03:04Z', fieldsV1: { 'f:spec': { 'f:http': {} } } };
    expect(describeRouteWriters([ours, deployer, argo], '/spec/http/1')).toBe('changed by "argocd-controller" (Apply, 2026-12-06T12:03:04Z)');
  });

  it('follows granular ownership by index, key or value and ignores other routes and subresources', () => {
    const byIndex: ManagedFieldsEntry = { manager: 'kubectl-edit', operation: 'Update', time: '2026-12-06T12:05:00Z', fieldsV1: { 'f:spec': { 'f:http': { 'i:1': { 'f:route': {} } } } } };
    const otherRoute: ManagedFieldsEntry = { manager: 'flagger', operation: 'Update', time: '2026-12-06T12:06:00Z', fieldsV1: { 'f:spec': { 'f:http': { 'i:0': { 'f:route': {} } } } } };
    const status: ManagedFieldsEntry = { manager: 'pilot', operation: 'Update', subresource: 'status', time: '2026-12-06T12:07:00Z', fieldsV1: { 'f:spec': { 'f:http': {} } } };
    expect(describeRouteWriters([ours, byIndex, otherRoute, status], '/spec/http/1')).toBe('changed by "kubectl-edit" (Update, 2026-12-06T12:05:00Z)');
    const byKey: ManagedFieldsEntry = { manager: 'kustomize-controller', operation: 'Apply', time: '2026-12-06T12:08:00Z', fieldsV1: { 'f:spec': { 'f:http': { 'k:{"name":"primary"}': { '.': {}, 'f:route': {} } } } } };
    expect(describeRouteWriters([byKey], '/spec/http/1')).toMatch(/^changed by "kustomize-controller"/);
  });

  it('names several owners newest first', () => {
    const a: ManagedFieldsEntry = { manager: 'kubectl-client-side-apply', operation: 'Update', time: '2026-12-06T12:01:00Z', fieldsV1: { 'f:spec': { 'f:http': {} } } };
    const b: ManagedFieldsEntry = { manager: 'kustomize-controller', operation: 'Apply', time: '2026-12-06T12:02:00Z', fieldsV1: { 'f:spec': { 'f:http': {} } } };
    expect(describeRouteWriters([a, b], '/spec/http/1')).toBe('changed by "kustomize-controller" (Apply, 2026-12-06T12:02:00Z) and "kubectl-client-side-apply" (Update, 2026-12-06T12:01:00Z)');
  });

  it('falls back to the newest other writer of spec, and says nothing when only we wrote', () => {
    expect(describeRouteWriters([ours, deployer], '/spec/http/1')).toBe('the route has no owner in managedFields; the last other writer of spec was "spinnaker" (Apply, 2026-12-06T11:00:00Z)');
    expect(describeRouteWriters([ours], '/spec/http/1')).toBeUndefined();
    expect(describeRouteWriters(undefined, '/spec/http/1')).toBeUndefined();
  });
});
