/**
 * The JSON Patches the embedded store received, newest last, so the playground page can show the
 * exact operations each step sent. Embedded mode only: a cluster's API server keeps no such log, and
 * the public status contract stays free of patch bodies.
 */
import { PatchEvent } from '../kube/embedded-api';

export interface LoggedPatch extends PatchEvent {
  /** Increasing number: a page asks for the patches after the last one it has. */
  seq: number;
  /** When the store received it (ISO 8601). */
  time: string;
}

/** Old entries go first: a playground session needs the recent shifts only. */
export const PATCH_LOG_LIMIT = 500;

export class PatchLog {
  private readonly entries: LoggedPatch[] = [];
  private seq = 0;

  constructor(private readonly now: () => Date = () => new Date()) {}

  record(event: PatchEvent): void {
    this.entries.push({ seq: ++this.seq, time: this.now().toISOString(), ...event });
    if (this.entries.length > PATCH_LOG_LIMIT) this.entries.splice(0, this.entries.length - PATCH_LOG_LIMIT);
  }

  /** The patches of one VirtualService after `afterSeq`, oldest first. */
  of(namespace: string, name: string, afterSeq = 0): LoggedPatch[] {
    return this.entries.filter((e) => e.namespace === namespace && e.name === name && e.seq > afterSeq);
  }
}
