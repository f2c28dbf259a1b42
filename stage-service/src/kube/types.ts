/**
 * The narrow view of Kubernetes the engine needs: read, list and JSON-patch VirtualServices.
 * Two implementations share these semantics: the real API server (KubeHttpClient) and the embedded
 * store that `npm start` uses when no cluster is configured.
 */
import { PatchOperation } from '@istio-shift/core';
import type { ManagedFieldsEntry } from './managed-fields';

export interface VirtualServiceObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    resourceVersion: string;
    /** Set by the API server (and the embedded store) when the object is created; never reused. */
    uid?: string;
    annotations?: Record<string, string>;
    [other: string]: unknown;
  };
  spec: Record<string, unknown>;
  [other: string]: unknown;
}

export interface VirtualServiceApi {
  /** The object, or undefined when it does not exist. */
  get(namespace: string, name: string): Promise<VirtualServiceObject | undefined>;
  list(namespace: string): Promise<VirtualServiceObject[]>;
  /** Applies an RFC 6902 patch atomically; throws PreconditionFailedError when a `test` fails. */
  patch(namespace: string, name: string, operations: PatchOperation[]): Promise<VirtualServiceObject>;
  /**
   * The object's metadata.managedFields read fresh from the API server (watch caches drop them), to
   * name who changed a route; absent where there are none (the embedded store).
   */
  managedFields?(namespace: string, name: string): Promise<ManagedFieldsEntry[] | undefined>;
}

/** A `test` operation or resourceVersion precondition failed: someone else wrote in between. */
export class PreconditionFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PreconditionFailedError';
  }
}

export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/**
 * Any other failure talking to Kubernetes; `status` is the HTTP status when there was one, and
 * `failure` says why there was no usable answer (timeout, unreachable, overloaded, starting, down).
 */
export class KubernetesApiError extends Error {
  constructor(
    message: string,
    readonly operation: string,
    readonly status: number | undefined,
    readonly failure?: 'timeout' | 'unreachable' | 'overloaded' | 'starting' | 'down',
  ) {
    super(message);
    this.name = 'KubernetesApiError';
  }

  /** Forbidden/unauthorized from a ready API server are configuration problems, not worth retrying. */
  get retryable(): boolean {
    return this.status === undefined || this.status >= 500 || this.status === 429;
  }
}

export const ISTIO_GROUP = 'networking.istio.io';
export const ISTIO_VERSION = 'v1';
export const VIRTUAL_SERVICES = 'virtualservices';
