/**
 * Where Events are written: the API server (through the account's transport) or memory (the
 * embedded store and the unit tests). Both create and patch as client-go's EventSinkImpl does.
 */
import { KubeHttpClient, KubeTransportError } from './http-client';
import { CoreEvent, EventPatch } from './event-types';

/** A failed Event write; `status` is the API server's answer when there was one. */
export class EventWriteError extends Error {
  constructor(message: string, readonly status: number | undefined) {
    super(message);
    this.name = 'EventWriteError';
  }
}

/** Creates and patches core/v1 Events. */
export interface EventWriter {
  create(event: CoreEvent): Promise<CoreEvent>;
  patch(namespace: string, name: string, patch: EventPatch): Promise<CoreEvent>;
}

/** Events on a real API server, through the account's transport (and its limiter and deadlines). */
export class ClusterEventWriter implements EventWriter {
  constructor(private readonly client: () => Promise<KubeHttpClient>) {}

  async create(event: CoreEvent): Promise<CoreEvent> {
    const { resourceVersion: _unused, ...metadata } = event.metadata;
    return this.send('POST', eventsPath(event.metadata.namespace), JSON.stringify({ ...event, metadata }), 'application/json');
  }

  /** client-go's EventSinkImpl.Patch sends a strategic merge patch of count, lastTimestamp and message. */
  async patch(namespace: string, name: string, patch: EventPatch): Promise<CoreEvent> {
    return this.send('PATCH', `${eventsPath(namespace)}/${encodeURIComponent(name)}`, JSON.stringify(patch), 'application/strategic-merge-patch+json');
  }

  private async send(method: 'POST' | 'PATCH', path: string, body: string, contentType: string): Promise<CoreEvent> {
    let response;
    try {
      response = await (await this.client()).request({ method, path, body, contentType, flow: path });
    } catch (error) {
      if (error instanceof KubeTransportError) throw new EventWriteError(error.message, undefined);
      throw error;
    }
    if (response.status >= 200 && response.status < 300) return JSON.parse(response.body) as CoreEvent;
    let message = `HTTP ${response.status}`;
    try {
      message = (JSON.parse(response.body) as { message?: string }).message ?? message;
    } catch {
      // not a Status: keep the code
    }
    throw new EventWriteError(message, response.status);
  }
}

function eventsPath(namespace: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`;
}

/** Events the memory writer keeps at most. */
const MEMORY_EVENTS_KEPT = 1000;

/** Events kept in memory: the embedded store's (`npm start` without a cluster) and the unit tests'. */
export class MemoryEventWriter implements EventWriter {
  readonly events = new Map<string, CoreEvent>();
  private revision = 0;
  /** Set to make every write fail with this status (a Role without events, in tests). */
  failWith?: number;

  async create(event: CoreEvent): Promise<CoreEvent> {
    this.check();
    const key = `${event.metadata.namespace}/${event.metadata.name}`;
    if (this.events.has(key)) throw new EventWriteError(`events "${event.metadata.name}" already exists`, 409);
    const stored = { ...event, metadata: { ...event.metadata, resourceVersion: String(++this.revision) } };
    this.events.set(key, stored);
    // Bounded like the API server's event TTL bounds them: the oldest go first.
    if (this.events.size > MEMORY_EVENTS_KEPT) this.events.delete(this.events.keys().next().value as string);
    return { ...stored };
  }

  async patch(namespace: string, name: string, patch: EventPatch): Promise<CoreEvent> {
    this.check();
    const key = `${namespace}/${name}`;
    const current = this.events.get(key);
    if (!current) throw new EventWriteError(`events "${name}" not found`, 404);
    const stored = { ...current, ...patch, metadata: { ...current.metadata, resourceVersion: String(++this.revision) } };
    this.events.set(key, stored);
    return { ...stored };
  }

  /** The Events about one object, oldest first, as kubectl describe lists them. */
  about(namespace: string, name: string): CoreEvent[] {
    return [...this.events.values()].filter((e) => e.involvedObject.namespace === namespace && e.involvedObject.name === name);
  }

  private check(): void {
    if (this.failWith !== undefined) throw new EventWriteError(`HTTP ${this.failWith}`, this.failWith);
  }
}
