/**
 * VirtualServices on a real API server through @kubernetes/client-node. Patches are RFC 6902
 * JSON Patches (client-node's default content type for custom objects), so the server applies
 * our `test` operations atomically with the writes.
 */
import * as k8s from '@kubernetes/client-node';
import { PatchOperation } from '@istio-shift/core';
import {
  ISTIO_GROUP,
  ISTIO_VERSION,
  KubernetesApiError,
  NotFoundError,
  PreconditionFailedError,
  VIRTUAL_SERVICES,
  VirtualServiceApi,
  VirtualServiceObject,
} from './types';

/** Observes every failed call (for the Kubernetes API error metric). */
export type ApiErrorObserver = (operation: string, status: number | undefined) => void;

interface ApiExceptionLike {
  code?: number;
  body?: unknown;
  message?: string;
}

/** The API server's own words (Status.message), never client-node's header dump. */
function statusBody(error: ApiExceptionLike): unknown {
  return typeof error.body === 'string' ? safeParse(error.body) : error.body;
}

function serverMessage(error: ApiExceptionLike): string {
  const message = (statusBody(error) as { message?: unknown } | undefined)?.message;
  if (typeof message === 'string') return message;
  return (error.message ?? 'unknown error').split('\n')[0];
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}

/**
 * How the API server reports "someone else wrote first": a failed JSON Patch `test` operation
 * (on the route or on our annotation or resourceVersion) is 422 Invalid with no field causes and
 * a generic message; a stale resourceVersion write is 409 Conflict. A 422 that names causes is a
 * schema or CEL rejection: a real error, not a race.
 */
function isPreconditionFailure(status: number | undefined, body: unknown): boolean {
  if (status === 409) return true;
  if (status !== 422) return false;
  const causes = (body as { details?: { causes?: unknown[] } } | undefined)?.details?.causes;
  return !Array.isArray(causes) || causes.length === 0;
}

export class ClusterVirtualServiceApi implements VirtualServiceApi {
  private readonly api: k8s.CustomObjectsApi;

  constructor(
    kubeConfig: k8s.KubeConfig,
    private readonly onError: ApiErrorObserver = () => undefined,
  ) {
    this.api = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  }

  async get(namespace: string, name: string): Promise<VirtualServiceObject | undefined> {
    try {
      return (await this.api.getNamespacedCustomObject({ group: ISTIO_GROUP, version: ISTIO_VERSION, namespace, plural: VIRTUAL_SERVICES, name })) as VirtualServiceObject;
    } catch (error) {
      if ((error as ApiExceptionLike).code === 404) return undefined;
      throw this.translate('get', error);
    }
  }

  async list(namespace: string): Promise<VirtualServiceObject[]> {
    try {
      const list = (await this.api.listNamespacedCustomObject({ group: ISTIO_GROUP, version: ISTIO_VERSION, namespace, plural: VIRTUAL_SERVICES })) as { items?: VirtualServiceObject[] };
      return list.items ?? [];
    } catch (error) {
      throw this.translate('list', error);
    }
  }

  async patch(namespace: string, name: string, operations: PatchOperation[]): Promise<VirtualServiceObject> {
    try {
      return (await this.api.patchNamespacedCustomObject(
        { group: ISTIO_GROUP, version: ISTIO_VERSION, namespace, plural: VIRTUAL_SERVICES, name, body: operations },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
      )) as VirtualServiceObject;
    } catch (error) {
      throw this.translate('patch', error);
    }
  }

  private translate(operation: string, error: unknown): Error {
    const apiError = error as ApiExceptionLike;
    const status = typeof apiError.code === 'number' ? apiError.code : undefined;
    const message = serverMessage(apiError);
    if (operation === 'patch' && isPreconditionFailure(status, statusBody(apiError))) {
      return new PreconditionFailedError(message);
    }
    this.onError(operation, status);
    if (status === 404) return new NotFoundError(message);
    return new KubernetesApiError(`Kubernetes ${operation} failed${status ? ` (${status})` : ''}: ${message}`, operation, status);
  }
}
