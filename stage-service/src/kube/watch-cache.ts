/**
 * A watch cache of the VirtualServices of one namespace: list once, then follow a watch from the
 * list's resourceVersion, so status polls read memory instead of calling the API server.
 *
 * The watch protocol as kube-apiserver speaks it (and how this follows it):
 * - LIST (paginated, `limit`) gives the objects and a collection resourceVersion;
 * - WATCH from that resourceVersion with `allowWatchBookmarks=true` streams one JSON event per
 *   line (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR); a bookmark only advances the resourceVersion;
 * - the server ends a watch after `timeoutSeconds` (or on restart): it is resumed from the last
 *   resourceVersion seen, with backoff when it failed;
 * - a resourceVersion too old for the server (compacted, or a restarted watch cache) is 410 Gone,
 *   as an HTTP status or as an ERROR event: the namespace is listed again (relist);
 * - a stream that goes silent for longer than bookmarks allow is cut and resumed.
 * While the namespace is not synced (before the first list, after a failure, while 403 says we may
 * not watch), `synced` is false and the caller reads from the API server instead.
 *
 * resourceVersions are opaque: the cache never orders them, it only compares them for equality
 * (see CachedVirtualServiceApi for how that keeps reads no older than this replica's own writes).
 */
import type { IncomingMessage } from 'http';
import { KubeHttpClient } from './http-client';
import { ISTIO_GROUP, ISTIO_VERSION, VIRTUAL_SERVICES, VirtualServiceObject } from './types';

export interface WatchSettings {
  /** Objects per LIST page. */
  pageSize: number;
  /** Asked of the server per watch; randomised up to 2x so many watches do not end together. */
  watchTimeoutSeconds: number;
  /** A stream silent for this long (no event, no bookmark) is cut and resumed. */
  silenceMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** Recent resourceVersions remembered per object (to recognise an event already seen). */
  recentVersions: number;
}

export const DEFAULT_WATCH_SETTINGS: WatchSettings = {
  pageSize: 500,
  watchTimeoutSeconds: 300,
  silenceMs: 150_000,
  backoffInitialMs: 250,
  backoffMaxMs: 10_000,
  recentVersions: 4,
};

export interface WatchStats {
  lists: number;
  watches: number;
  /** Watches that ended because the server said 410 Gone. */
  gone: number;
  events: number;
  bookmarks: number;
  failures: number;
}

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: VirtualServiceObject & { code?: number; message?: string };
}

class GoneError extends Error {}

/** Thrown for a LIST or WATCH the server refused (403 means RBAC lacks the `watch`/`list` verb). */
class WatchRefusedError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export function collectionPath(namespace: string): string {
  return `/apis/${ISTIO_GROUP}/${ISTIO_VERSION}/namespaces/${encodeURIComponent(namespace)}/${VIRTUAL_SERVICES}`;
}

/** Why the API server refused a list or watch, in its own words (the Status message), and the fix. */
function refusal(what: 'listing' | 'watching', namespace: string, status: number, body: string): string {
  let reason = '';
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    if (typeof parsed.message === 'string') reason = `: ${parsed.message.slice(0, 300)}`;
  } catch {
    // Not a Status object: the code alone says enough.
  }
  const fix = status === 403 ? `; grant the service's identity get, list and watch on virtualservices.networking.istio.io in ${namespace} (until then its reads go to the API server)` : '';
  return `${what} VirtualServices in ${namespace} answered ${status}${reason}${fix}`;
}

export class NamespaceWatch {
  private readonly objects = new Map<string, VirtualServiceObject>();
  /** Per object, its last few resourceVersions seen by list or watch (newest last). */
  private readonly versions = new Map<string, string[]>();
  private resourceVersion?: string;
  private syncedNow = false;
  private readonly stopper = new AbortController();
  private stream?: IncomingMessage;
  /** Counts lists started: an entry recorded before a list started is superseded by its result. */
  private listGeneration = 0;
  private firstSync?: Promise<void>;
  private resolveFirstSync?: () => void;
  readonly stats: WatchStats = { lists: 0, watches: 0, gone: 0, events: 0, bookmarks: 0, failures: 0 };
  /** Why the namespace is not synced, for logs and /readyz-like reporting. */
  lastProblem?: string;

  constructor(
    private readonly client: () => Promise<KubeHttpClient>,
    readonly namespace: string,
    private readonly settings: WatchSettings = DEFAULT_WATCH_SETTINGS,
    /** Called when an object changes (or is relisted), so wrappers can drop what the change supersedes. */
    private readonly onChange: (name: string) => void = () => undefined,
  ) {
    this.firstSync = new Promise((resolve) => (this.resolveFirstSync = resolve));
  }

  get synced(): boolean {
    return this.syncedNow;
  }

  /** The generation of the latest list (see CachedVirtualServiceApi). */
  get generation(): number {
    return this.listGeneration;
  }

  get size(): number {
    return this.objects.size;
  }

  /** The cached object (only meaningful while `synced`). */
  object(name: string): VirtualServiceObject | undefined {
    return this.objects.get(name);
  }

  /** Every cached object (only meaningful while `synced`). */
  objectsNow(): VirtualServiceObject[] {
    return [...this.objects.values()];
  }

  /** Whether list or watch has delivered this resourceVersion of the object recently. */
  hasSeen(name: string, resourceVersion: string): boolean {
    return this.versions.get(name)?.includes(resourceVersion) ?? false;
  }

  /** Resolves once the first list has completed (or at once when stopped). */
  whenSynced(): Promise<void> {
    return this.firstSync ?? Promise.resolve();
  }

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopper.abort();
    this.stream?.destroy();
    this.syncedNow = false;
    this.resolveFirstSync?.();
  }

  /** Cuts the current watch stream, as a server timeout or a dropped connection would (tests). */
  interrupt(): void {
    this.stream?.destroy();
  }

  /** Stops reading the stream (events queue up in the socket): a lagging watch, for tests. */
  hold(): void {
    this.stream?.pause();
  }

  release(): void {
    this.stream?.resume();
  }

  /** Resumes from a resourceVersion the server has forgotten, to force a 410 Gone (tests). */
  forgetResourceVersion(stale: string): void {
    this.resourceVersion = stale;
    this.stream?.destroy();
  }

  private async run(): Promise<void> {
    let backoff = this.settings.backoffInitialMs;
    const signal = this.stopper.signal;
    while (!signal.aborted) {
      try {
        if (this.resourceVersion === undefined) await this.list();
        await this.watch();
        backoff = this.settings.backoffInitialMs; // a watch that ran and ended normally: resume at once
      } catch (error) {
        if (signal.aborted) break;
        this.syncedNow = false;
        if (error instanceof GoneError) {
          this.stats.gone++;
          this.resourceVersion = undefined;
          this.lastProblem = 'the watch expired (410 Gone): relisting';
          continue;
        }
        this.stats.failures++;
        this.lastProblem = (error as Error).message;
        // Jitter so the watches of many replicas do not reconnect in step after an outage.
        await sleep(backoff * (0.5 + Math.random() / 2), signal);
        backoff = Math.min(this.settings.backoffMaxMs, backoff * 2);
      }
    }
  }

  private async list(): Promise<void> {
    const client = await this.client();
    const generation = ++this.listGeneration;
    this.stats.lists++;
    const objects = new Map<string, VirtualServiceObject>();
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const query = new URLSearchParams({ limit: String(this.settings.pageSize) });
      if (continueToken) query.set('continue', continueToken);
      const response = await client.request({ method: 'GET', path: `${collectionPath(this.namespace)}?${query}`, flow: `watch:${this.namespace}` });
      if (response.status === 410) throw new GoneError('list continue token expired');
      if (response.status !== 200) throw new WatchRefusedError(response.status, refusal('listing', this.namespace, response.status, response.body));
      const body = JSON.parse(response.body) as { metadata?: { resourceVersion?: string; continue?: string }; items?: VirtualServiceObject[] };
      for (const item of body.items ?? []) objects.set(item.metadata.name, slim(item));
      continueToken = body.metadata?.continue || undefined;
      resourceVersion = body.metadata?.resourceVersion ?? resourceVersion;
    } while (continueToken);
    if (generation !== this.listGeneration) return;
    const previous = new Set(this.objects.keys());
    this.objects.clear();
    for (const [name, object] of objects) {
      this.objects.set(name, object);
      this.remember(name, object.metadata.resourceVersion, true);
      previous.delete(name);
      this.onChange(name);
    }
    for (const name of previous) {
      this.versions.delete(name);
      this.onChange(name);
    }
    this.resourceVersion = resourceVersion;
    this.markSynced();
  }

  private async watch(): Promise<void> {
    const client = await this.client();
    const timeout = Math.round(this.settings.watchTimeoutSeconds * (1 + Math.random()));
    const query = new URLSearchParams({ watch: '1', allowWatchBookmarks: 'true', timeoutSeconds: String(timeout), resourceVersion: this.resourceVersion ?? '' });
    this.stats.watches++;
    const stream = await client.stream(`${collectionPath(this.namespace)}?${query}`, this.stopper.signal);
    this.stream = stream;
    try {
      if (stream.statusCode === 410) throw new GoneError('watch resourceVersion too old');
      if (stream.statusCode !== 200) {
        const body = await readAll(stream);
        throw new WatchRefusedError(stream.statusCode ?? 0, refusal('watching', this.namespace, stream.statusCode ?? 0, body));
      }
      // The server accepted our resourceVersion: events from it follow in order, so we are synced.
      this.markSynced();
      await this.consume(stream);
    } finally {
      this.stream = undefined;
      stream.destroy();
    }
  }

  private consume(stream: IncomingMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      let buffered = '';
      let silence: NodeJS.Timeout | undefined;
      const armSilence = () => {
        if (silence) clearTimeout(silence);
        silence = setTimeout(() => stream.destroy(new Error(`watch of ${this.namespace} silent for ${this.settings.silenceMs} ms`)), this.settings.silenceMs);
        silence.unref();
      };
      const finish = (error?: Error) => {
        if (silence) clearTimeout(silence);
        stream.removeAllListeners('data');
        if (error) reject(error);
        else resolve();
      };
      armSilence();
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        armSilence();
        buffered += chunk;
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          if (line.trim() === '') continue;
          try {
            this.apply(JSON.parse(line) as WatchEvent);
          } catch (error) {
            stream.destroy();
            finish(error as Error);
            return;
          }
        }
      });
      stream.on('end', () => finish());
      stream.on('close', () => finish(stream.readableEnded ? undefined : new Error(`watch of ${this.namespace} closed`)));
      stream.on('error', (error) => finish(error));
    });
  }

  private apply(event: WatchEvent): void {
    if (event.type === 'ERROR') {
      if (event.object?.code === 410) throw new GoneError(event.object.message ?? 'Gone');
      throw new Error(`watch of ${this.namespace} reported an error: ${event.object?.message ?? 'unknown'}`);
    }
    const version = event.object?.metadata?.resourceVersion;
    if (version) this.resourceVersion = version;
    if (event.type === 'BOOKMARK') {
      this.stats.bookmarks++;
      return;
    }
    this.stats.events++;
    const name = event.object.metadata.name;
    if (event.type === 'DELETED') this.objects.delete(name);
    else this.objects.set(name, slim(event.object));
    this.remember(name, version, false);
    this.onChange(name);
  }

  private remember(name: string, version: string | undefined, fromList: boolean): void {
    if (!version) return;
    const seen = fromList ? [] : (this.versions.get(name) ?? []);
    seen.push(version);
    if (seen.length > this.settings.recentVersions) seen.shift();
    this.versions.set(name, seen);
  }

  private markSynced(): void {
    this.syncedNow = true;
    this.lastProblem = undefined;
    this.resolveFirstSync?.();
    this.resolveFirstSync = undefined;
    this.firstSync = undefined;
  }
}

/**
 * The object without metadata.managedFields: the server-side-apply bookkeeping is often larger
 * than the spec, and nothing here reads it (writes are JSON Patches that never touch it).
 */
export function slim(object: VirtualServiceObject): VirtualServiceObject {
  if (object.metadata.managedFields !== undefined) delete object.metadata.managedFields;
  return object;
}

function readAll(stream: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(Buffer.from(chunk)));
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}
