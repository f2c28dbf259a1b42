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
import { hostname } from 'os';
import { Clock, realClock } from '../engine/clock';
import { Logger } from '../logger';
import { CORRELATION, Correlated, EventCorrelator } from './event-correlator';
import { CoreEvent, EVENT_COMPONENT, EventPatch, EventSink, ShiftEvent, timestamp } from './event-types';
import { EventWriteError, EventWriter } from './event-writers';
import { VirtualServiceObject } from './types';

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
