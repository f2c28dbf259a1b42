/**
 * An in-memory VirtualService store with the API server's semantics that the engine relies on:
 * every write bumps resourceVersion, a JSON Patch applies atomically or not at all, and a failed
 * `test` operation is a precondition failure. It lets `npm start` work with no cluster.
 */
import { randomUUID } from 'crypto';
import { applyPatch, deepClone, JsonPatchError, Operation } from 'fast-json-patch';
import { PatchOperation } from '@istio-shift/core';
import { NotFoundError, PreconditionFailedError, VirtualServiceApi, VirtualServiceObject } from './types';

/** One JSON Patch request as the store received it, and what became of it. */
export interface PatchEvent {
  namespace: string;
  name: string;
  operations: PatchOperation[];
  outcome: 'applied' | 'conflict' | 'not-found' | 'invalid';
  /** The object's resourceVersion after an applied patch. */
  resourceVersion?: string;
}

export class EmbeddedVirtualServiceApi implements VirtualServiceApi {
  /** Told of every patch request (the playground's patch log); nobody by default. */
  onPatch?: (event: PatchEvent) => void;
  private readonly objects = new Map<string, VirtualServiceObject>();
  private revision = 1000;

  constructor(seed: VirtualServiceObject[] = []) {
    for (const object of seed) this.put(object);
  }

  /** Creates or replaces an object, as `kubectl apply` would (for seeding and tests). */
  put(object: VirtualServiceObject): VirtualServiceObject {
    const stored = deepClone(object) as VirtualServiceObject;
    stored.metadata.resourceVersion = String(++this.revision);
    // Like the API server: a replaced object keeps its uid, a new one gets a fresh one.
    stored.metadata.uid = this.objects.get(this.key(stored.metadata.namespace, stored.metadata.name))?.metadata.uid ?? randomUUID();
    this.objects.set(this.key(stored.metadata.namespace, stored.metadata.name), stored);
    return deepClone(stored);
  }

  async get(namespace: string, name: string): Promise<VirtualServiceObject | undefined> {
    const found = this.objects.get(this.key(namespace, name));
    return found ? (deepClone(found) as VirtualServiceObject) : undefined;
  }

  async list(namespace: string): Promise<VirtualServiceObject[]> {
    return [...this.objects.values()]
      .filter((o) => o.metadata.namespace === namespace)
      .map((o) => deepClone(o) as VirtualServiceObject);
  }

  async patch(namespace: string, name: string, operations: PatchOperation[]): Promise<VirtualServiceObject> {
    const key = this.key(namespace, name);
    const current = this.objects.get(key);
    const report = (outcome: PatchEvent['outcome'], resourceVersion?: string) =>
      this.onPatch?.({ namespace, name, operations: deepClone(operations) as PatchOperation[], outcome, ...(resourceVersion ? { resourceVersion } : {}) });
    if (!current) {
      report('not-found');
      throw new NotFoundError(`virtualservices.networking.istio.io "${name}" not found in namespace ${namespace}`);
    }
    let next: VirtualServiceObject;
    try {
      // applyPatch mutates its document: work on a copy so a failed patch leaves nothing behind.
      next = applyPatch(deepClone(current), operations as Operation[], true, false).newDocument as VirtualServiceObject;
    } catch (error) {
      report(error instanceof JsonPatchError && error.name === 'TEST_OPERATION_FAILED' ? 'conflict' : 'invalid');
      if (error instanceof JsonPatchError && error.name === 'TEST_OPERATION_FAILED') {
        throw new PreconditionFailedError(`the JSON Patch test at ${error.operation?.path} failed: the object changed`);
      }
      throw error;
    }
    next.metadata.resourceVersion = String(++this.revision);
    this.objects.set(key, next);
    report('applied', next.metadata.resourceVersion);
    return deepClone(next) as VirtualServiceObject;
  }

  private key(namespace: string, name: string): string {
    return `${namespace}/${name}`;
  }
}
