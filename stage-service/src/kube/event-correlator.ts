/**
 * client-go's event correlation (tools/record/events_cache.go; facts and commits in
 * docs/events.md): a repeated event becomes a count PATCH, similar events within 10 minutes are
 * combined, and a token bucket per object drops the rest. Pure bookkeeping on our clock, no I/O.
 */
import { randomUUID } from 'crypto';
import { Clock, realClock } from '../engine/clock';
import { CoreEvent, EventPatch, timestamp } from './event-types';

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

