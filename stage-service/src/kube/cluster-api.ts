/**
 * VirtualServices on a real API server, over KubeHttpClient (keep-alive pool, deadlines, fair
 * limiter, 429 and restart-403 retries: see http-client.ts). Patches are RFC 6902 JSON Patches,
 * so the server applies our `test` operations atomically with the writes.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { PatchOperation } from '@istio-shift/core';
import { endpointFromKubeConfig } from './endpoint';
import { KubeHttpClient, KubeResponse, KubeTransportError, TransportSettings } from './http-client';
import { ManagedFieldsEntry, OWN_FIELD_MANAGER } from './managed-fields';
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

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}

/** The API server's own words (Status.message). */
function serverMessage(body: unknown, status: number): string {
  const message = (body as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' && message.trim() !== '' ? message.trim().split('\n')[0] : `HTTP ${status}`;
}

/**
 * How the API server reports "someone else wrote first": a failed JSON Patch `test` operation
 * (on the route or on our annotation or resourceVersion) is 422 Invalid with no field causes and
 * a generic message; a stale resourceVersion write is 409 Conflict. A 422 that names causes is a
 * schema or CEL rejection: a real error, not a race.
 */
function isPreconditionFailure(status: number, body: unknown): boolean {
  if (status === 409) return true;
  if (status !== 422) return false;
  const causes = (body as { details?: { causes?: unknown[] } } | undefined)?.details?.causes;
  return !Array.isArray(causes) || causes.length === 0;
}

/** A client, a kubeconfig (loaded on first use), or a factory for a client. */
export type ClientSource = KubeHttpClient | KubeConfig | (() => Promise<KubeHttpClient>);

/** How to get the transport from a ClientSource (a kubeconfig's client is built on first use). */
export function clientFactory(source: ClientSource, settings: Partial<TransportSettings> = {}): () => Promise<KubeHttpClient> {
  if (source instanceof KubeHttpClient) return async () => source;
  if (typeof source === 'function') return source;
  return async () => {
    const endpoint = await endpointFromKubeConfig(source);
    return new KubeHttpClient(endpoint.server, endpoint.tls, endpoint.authorization, settings);
  };
}

export class ClusterVirtualServiceApi implements VirtualServiceApi {
  private clientPromise?: Promise<KubeHttpClient>;
  private readonly makeClient: () => Promise<KubeHttpClient>;

  constructor(
    source: ClientSource,
    private readonly onError: ApiErrorObserver = () => undefined,
    settings: Partial<TransportSettings> = {},
  ) {
    this.makeClient = clientFactory(source, settings);
  }

  /** The transport (created on first use). */
  client(): Promise<KubeHttpClient> {
    this.clientPromise ??= this.makeClient();
    return this.clientPromise;
  }

  async get(namespace: string, name: string): Promise<VirtualServiceObject | undefined> {
    const response = await this.call('get', 'GET', objectPath(namespace, name), `${namespace}/${name}`);
    if (response.status === 404) return undefined;
    return this.result('get', response) as VirtualServiceObject;
  }

  async list(namespace: string): Promise<VirtualServiceObject[]> {
    const response = await this.call('list', 'GET', collectionPath(namespace), `${namespace}/*`);
    return ((this.result('list', response) as { items?: VirtualServiceObject[] }).items ?? []);
  }

  async patch(namespace: string, name: string, operations: PatchOperation[]): Promise<VirtualServiceObject> {
    // Our own field manager name, so managedFields tell our writes from another writer's (managed-fields.ts).
    const path = `${objectPath(namespace, name)}?fieldManager=${OWN_FIELD_MANAGER}`;
    const response = await this.call('patch', 'PATCH', path, `${namespace}/${name}`, goJson(operations), 'application/json-patch+json');
    if (isPreconditionFailure(response.status, safeParse(response.body))) {
      throw new PreconditionFailedError(serverMessage(safeParse(response.body), response.status));
    }
    return this.result('patch', response) as VirtualServiceObject;
  }

  async managedFields(namespace: string, name: string): Promise<ManagedFieldsEntry[] | undefined> {
    return (await this.get(namespace, name))?.metadata.managedFields as ManagedFieldsEntry[] | undefined;
  }

  private async call(operation: string, method: 'GET' | 'PATCH', path: string, flow: string, body?: string, contentType?: string): Promise<KubeResponse> {
    try {
      return await (await this.client()).request({ method, path, flow, body, contentType });
    } catch (error) {
      if (error instanceof KubeTransportError) {
        this.onError(operation, undefined);
        throw new KubernetesApiError(`Kubernetes ${operation} failed: ${error.message}`, operation, undefined, error.failure);
      }
      throw error;
    }
  }

  /** The parsed body of a 2xx answer; any other status becomes the matching error. */
  private result(operation: string, response: KubeResponse): unknown {
    const body = safeParse(response.body);
    if (response.status >= 200 && response.status < 300) return body;
    this.onError(operation, response.status);
    const message = serverMessage(body, response.status);
    if (response.status === 404) throw new NotFoundError(message);
    const retryAfter = response.status === 429 ? ` (the API server is throttling us; Retry-After ${response.headers['retry-after'] ?? 'not given'})` : '';
    throw new KubernetesApiError(`Kubernetes ${operation} failed (${response.status}): ${message}${retryAfter}`, operation, response.status);
  }
}

function collectionPath(namespace: string): string {
  return `/apis/${ISTIO_GROUP}/${ISTIO_VERSION}/namespaces/${encodeURIComponent(namespace)}/${VIRTUAL_SERVICES}`;
}

function objectPath(namespace: string, name: string): string {
  return `${collectionPath(namespace)}/${encodeURIComponent(name)}`;
}

/**
 * JSON as Go's encoding/json writes it: <, >, & and U+2028/U+2029 as \u escapes. The API server
 * applies a JSON Patch to the object marshalled that way, and its `test` compares a string by
 * those bytes: a test value with a raw ">" (a judgement's "e-value 512 >= 400", a header match
 * "a&b") never equals the stored "\u003e", and every guarded write of that object would fail.
 * These characters occur only inside JSON strings, where the escapes mean the same.
 */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
