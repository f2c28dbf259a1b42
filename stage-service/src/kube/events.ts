/**
 * Kubernetes Events on the VirtualService a shift moves, so `kubectl describe virtualservice
 * checkout` tells the shift's story (steps, verdicts, rollbacks, conflicts).
 *
 * This follows client-go's legacy recorder (tools/record, facts and commits in docs/events.md):
 * - core/v1 Events (the API `kubectl describe` lists), named `<object>.<hex unix nanos>`;
 * - the same event again (same source, object, type, reason and message) is one Event whose
 *   count and lastTimestamp are PATCHed (client-go's eventLogger);
 * - more than 10 events of one reason with different messages within 10 minutes become one
 *   "(combined from similar events): ..." Event (EventAggregator);
 * - a token bucket per source + object (burst 25, one more every 5 minutes) drops the rest
 *   (EventSourceObjectSpamFilter).
 *
 * Recording never blocks or fails a shift: `record` returns at once, writes happen one after the
 * other in the background, and a write that fails (a Role without `create` on events, an API
 * server that is down) is dropped and logged, at most once per kind of failure per 10 minutes.
 */
import { randomUUID } from 'crypto';
import { hostname } from 'os';
import { Clock, realClock } from '../engine/clock';
import { Logger } from '../logger';
import { KubeHttpClient, KubeTransportError } from './http-client';
import { VirtualServiceObject } from './types';

/** Who writes the Events: source.component and reportingComponent. */
export const EVENT_COMPONENT = 'istio-traffic-shift';

export type EventType = 'Normal' | 'Warning';

/** One thing that happened to a shift, as the engine says it. */
export interface ShiftEvent {
  type: EventType;
  /** UpperCamelCase, e.g. StepApplied (core/v1 Event.reason). */
  reason: string;
  message: string;
}

/** Where the engine reports what happened; implementations must never throw or wait. */
export interface EventSink {
  record(object: VirtualServiceObject, event: ShiftEvent): void;
}

/** The core/v1 Event fields we write (k8s.io/api core/v1 types.go, Event). */
export interface CoreEvent {
  apiVersion: 'v1';
  kind: 'Event';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  involvedObject: { apiVersion: string; kind: string; name: string; namespace: string; uid?: string; resourceVersion?: string };
  reason: string;
  message: string;
  source: { component: string; host: string };
  firstTimestamp: string;
  lastTimestamp: string;
  count: number;
  type: EventType;
  reportingComponent: string;
  reportingInstance: string;
}

/** The fields client-go's eventLogger patches on a repeated event. */
export type EventPatch = Pick<CoreEvent, 'count' | 'lastTimestamp' | 'message'>;

/** client-go tools/record/events_cache.go defaults. */
export const CORRELATION = {
  cacheEntries: 4096,
  aggregateMaxEvents: 10,
  aggregateIntervalSeconds: 600,
  spamBurst: 25,
  spamQps: 1 / 300,
  /** core/v1 legacy validation does not bound the message; events.k8s.io's note is at most 1024 (validation/events.go NoteLengthLimit). */
  maxMessageLength: 1024,
} as const;

export const COMBINED_PREFIX = '(combined from similar events): ';

/** A Map kept to `size` entries, least recently used first out (k8s.io/utils/lru). */
class Lru<V> {
  private readonly entries = new Map<string, V>();
  constructor(private readonly size: number) {}

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.size) this.entries.delete(this.entries.keys().next().value as string);
  }
}

/** client-go getEventKey: everything that makes two events "the same". */
function eventKey(e: CoreEvent): string {
  const o = e.involvedObject;
  return [e.source.component, e.source.host, o.kind, o.namespace, o.name, '', o.uid ?? '', o.apiVersion, e.type, e.reason, e.message].join('\0');
}

/** client-go getSpamKey: one token bucket per source + object + type. */
function spamKey(e: CoreEvent): string {
  const o = e.involvedObject;
  return [e.source.component, e.source.host, o.kind, o.namespace, o.name, o.uid ?? '', o.apiVersion, e.type].join('\0');
}

/** client-go EventAggregatorByReasonFunc: events that differ only by message. */
function aggregateKey(e: CoreEvent): string {
  const o = e.involvedObject;
  return [e.source.component, e.source.host, o.kind, o.namespace, o.name, o.uid ?? '', o.apiVersion, e.type, e.reason, e.reportingComponent, e.reportingInstance].join('\0');
}

interface Observation {
  count: number;
  firstTimestamp: string;
  name: string;
  resourceVersion?: string;
}

/** What to write for an event: a new Event, a count increment of an existing one, or nothing. */
export type Correlated = { skip: true } | { skip: false; event: CoreEvent; patch?: EventPatch };

/**
 * client-go's EventCorrelator (aggregate, then observe, then spam-filter), on our clock. Pure
 * bookkeeping: no I/O, so the unit tests drive it with a fake clock.
 */
export class EventCorrelator {
  private readonly aggregates: Lru<{ localKeys: Set<string>; last: number }>;
  private readonly observations: Lru<Observation>;
  private readonly buckets: Lru<{ tokens: number; at: number }>;
  private lastNanos = 0n;

  constructor(private readonly clock: Clock = realClock) {
    this.aggregates = new Lru(CORRELATION.cacheEntries);
    this.observations = new Lru(CORRELATION.cacheEntries);
    this.buckets = new Lru(CORRELATION.cacheEntries);
  }

  /** A new Event's name: `<object>.<hex unix nanos>` (client-go util.GenerateEventName), unique per recorder. */
  nameFor(objectName: string): string {
    let nanos = BigInt(this.clock.now()) * 1_000_000n;
    // Our clock has milliseconds: two events in one millisecond would get the same name (409).
    if (nanos <= this.lastNanos) nanos = this.lastNanos + 1n;
    this.lastNanos = nanos;
    const name = `${objectName}.${nanos.toString(16)}`;
    return name.length <= 253 ? name : randomUUID();
  }

  correlate(incoming: CoreEvent): Correlated {
    const now = this.clock.now();
    const { event: aggregated, key } = this.aggregate(incoming, now);
    const { event, patch } = this.observe(aggregated, key);
    if (!this.accept(spamKey(event), now)) return { skip: true };
    return { skip: false, event, patch };
  }

  /** The server's copy of a written Event (its name and resourceVersion) for the next increment. */
  updateState(written: CoreEvent): void {
    this.observations.set(eventKey(written), {
      count: written.count,
      firstTimestamp: written.firstTimestamp,
      name: written.metadata.name,
      resourceVersion: written.metadata.resourceVersion,
    });
  }

  /** EventAggregator.EventAggregate. */
  private aggregate(event: CoreEvent, now: number): { event: CoreEvent; key: string } {
    const groupKey = aggregateKey(event);
    let record = this.aggregates.get(groupKey);
    if (!record || now - record.last > CORRELATION.aggregateIntervalSeconds * 1000) record = { localKeys: new Set(), last: 0 };
    record.localKeys.add(event.message);
    record.last = now;
    this.aggregates.set(groupKey, record);
    if (record.localKeys.size < CORRELATION.aggregateMaxEvents) return { event, key: eventKey(event) };
    // Do not grow the set past the maximum (client-go PopAny).
    record.localKeys.delete(record.localKeys.values().next().value as string);
    const at = timestamp(now);
    return {
      event: {
        ...event,
        metadata: { name: this.nameFor(event.involvedObject.name), namespace: event.metadata.namespace },
        count: 1,
        firstTimestamp: at,
        lastTimestamp: at,
        message: COMBINED_PREFIX + event.message,
      },
      key: groupKey,
    };
  }

  /** eventLogger.eventObserve: a known key becomes a count increment of the Event already written. */
  private observe(event: CoreEvent, key: string): { event: CoreEvent; patch?: EventPatch } {
    const last = this.observations.get(key);
    let result = event;
    let patch: EventPatch | undefined;
    if (last && last.count > 0) {
      result = {
        ...event,
        metadata: { ...event.metadata, name: last.name, resourceVersion: last.resourceVersion },
        firstTimestamp: last.firstTimestamp,
        count: last.count + 1,
      };
      patch = { count: result.count, lastTimestamp: result.lastTimestamp, message: result.message };
    }
    this.observations.set(key, { count: result.count, firstTimestamp: result.firstTimestamp, name: result.metadata.name, resourceVersion: result.metadata.resourceVersion });
    return { event: result, patch };
  }

  /** EventSourceObjectSpamFilter: a token bucket (flowcontrol.NewTokenBucketPassiveRateLimiter). */
  private accept(key: string, now: number): boolean {
    const bucket = this.buckets.get(key) ?? { tokens: CORRELATION.spamBurst, at: now };
    bucket.tokens = Math.min(CORRELATION.spamBurst, bucket.tokens + ((now - bucket.at) / 1000) * CORRELATION.spamQps);
    bucket.at = now;
    const ok = bucket.tokens >= 1;
    if (ok) bucket.tokens -= 1;
    this.buckets.set(key, bucket);
    return ok;
  }
}

/** metav1.Time's JSON: RFC 3339 in seconds. */
export function timestamp(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

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

/** Writes waiting at most; beyond it new events are dropped (client-go drops too: ActionOrDrop). */
const MAX_QUEUED = 1000;
/** A failure of one kind is logged at most once per this long. */
export const FAILURE_LOG_INTERVAL_MS = 10 * 60 * 1000;

export interface EventRecorderOptions {
  writer: EventWriter;
  log: Logger;
  clock?: Clock;
  /** For log lines: which account's API server. */
  account: string;
  /** reportingInstance and source.host: this replica (the pod's hostname). */
  instance?: string;
  /** The manifest whose Role to fix when writes are forbidden (the service's, or the Run Job's). */
  rbacFile?: string;
}

/** An EventSink that correlates like client-go and writes in the background, never failing a caller. */
export class EventRecorder implements EventSink {
  private readonly correlator: EventCorrelator;
  private readonly clock: Clock;
  private readonly instance: string;
  private readonly queue: Correlated[] = [];
  private draining?: Promise<void>;
  private readonly failures = new Map<string, { loggedAt: number; suppressed: number }>();

  constructor(private readonly options: EventRecorderOptions) {
    this.clock = options.clock ?? realClock;
    this.correlator = new EventCorrelator(this.clock);
    this.instance = (options.instance ?? hostname()).slice(0, 128);
  }

  record(object: VirtualServiceObject, event: ShiftEvent): void {
    try {
      const correlated = this.correlator.correlate(this.coreEvent(object, event));
      if (correlated.skip) return;
      if (this.queue.length >= MAX_QUEUED) {
        this.failed('queue-full', `more than ${MAX_QUEUED} Events waiting to be written; dropped`, undefined);
        return;
      }
      this.queue.push(correlated);
      this.draining ??= this.drain();
    } catch (error) {
      this.failed('internal', (error as Error).message, undefined);
    }
  }

  /** Resolves once every queued event was written or dropped (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        if (next.skip) continue;
        try {
          this.correlator.updateState(await this.write(next.event, next.patch));
        } catch (error) {
          const status = error instanceof EventWriteError ? error.status : undefined;
          this.failed(status === undefined ? 'unreachable' : String(status), (error as Error).message, status);
        }
      }
    } finally {
      // Cleared in the same turn the queue was seen empty, so an event queued right after starts a new drain.
      this.draining = undefined;
    }
  }

  /** client-go recordEvent: patch a repeated event, create it when the patch finds none (404). */
  private async write(event: CoreEvent, patch: EventPatch | undefined): Promise<CoreEvent> {
    if (patch && event.count > 1) {
      try {
        return await this.options.writer.patch(event.metadata.namespace, event.metadata.name, patch);
      } catch (error) {
        if (!(error instanceof EventWriteError && error.status === 404)) throw error;
      }
    }
    return this.options.writer.create({ ...event, metadata: { name: event.metadata.name, namespace: event.metadata.namespace } });
  }

  private coreEvent(object: VirtualServiceObject, event: ShiftEvent): CoreEvent {
    const { name, namespace, uid, resourceVersion } = object.metadata;
    const at = timestamp(this.clock.now());
    const message = event.message.length > CORRELATION.maxMessageLength ? `${event.message.slice(0, CORRELATION.maxMessageLength - 3)}...` : event.message;
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: this.correlator.nameFor(name), namespace },
      involvedObject: { apiVersion: object.apiVersion, kind: object.kind, name, namespace, uid, resourceVersion },
      reason: event.reason,
      message,
      source: { component: EVENT_COMPONENT, host: this.instance },
      firstTimestamp: at,
      lastTimestamp: at,
      count: 1,
      type: event.type,
      reportingComponent: EVENT_COMPONENT,
      reportingInstance: this.instance,
    };
  }

  /** One log line per kind of failure per FAILURE_LOG_INTERVAL_MS, with how many were not logged. */
  private failed(kind: string, message: string, status: number | undefined): void {
    const now = this.clock.now();
    const seen = this.failures.get(kind);
    if (seen && now - seen.loggedAt < FAILURE_LOG_INTERVAL_MS) {
      seen.suppressed++;
      return;
    }
    const fix = status === 403 ? `grant create and patch on events (core API group) in the Role: see ${this.options.rbacFile ?? 'stage-service/deploy/rbac.yaml'}` : undefined;
    this.options.log.warn('could not record a Kubernetes Event; shifts go on without it', {
      account: this.options.account,
      status,
      error: message,
      ...(fix ? { fix } : {}),
      ...(seen?.suppressed ? { notLoggedSinceLastLine: seen.suppressed } : {}),
    });
    this.failures.set(kind, { loggedAt: now, suppressed: 0 });
  }
}
