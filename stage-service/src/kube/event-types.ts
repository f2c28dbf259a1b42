/**
 * What a shift's Kubernetes Events are made of: the engine's ShiftEvent, the sink it reports to,
 * and the core/v1 Event we write (see events.ts for how they are recorded).
 */
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

/** metav1.Time's JSON: RFC 3339 in seconds. */
export function timestamp(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
