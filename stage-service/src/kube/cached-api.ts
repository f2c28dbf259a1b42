/**
 * VirtualServices of a cluster account read from watch caches (watch-cache.ts), written through to
 * the API server. Status polls, which are nearly all the traffic, then cost no API server request.
 *
 * Why reads may come from a cache at all: every write is still the engine's guarded JSON Patch
 * (`test` of the route as read and of the state annotation's previous value). A stale read can
 * only make that patch fail, never overwrite anyone: on PreconditionFailedError this wrapper
 * invalidates the object, so the engine's retry reads it FRESH from the API server.
 *
 * Reads are never older than this replica's own last write: the patch response (and a fresh GET)
 * is kept per object as an "override" and preferred to the watch's copy until the watch delivers
 * that very resourceVersion (equality only: resourceVersions are opaque) or a relist that started
 * afterwards replaces the namespace. An override the watch has not confirmed within
 * `confirmWithinMs` is distrusted: the next read goes to the API server.
 */
import { PatchOperation } from '@istio-shift/core';
import { ClusterVirtualServiceApi } from './cluster-api';
import { PreconditionFailedError, VirtualServiceApi, VirtualServiceObject } from './types';
import type { ManagedFieldsEntry } from './managed-fields';
import { DEFAULT_WATCH_SETTINGS, NamespaceWatch, WatchSettings, slim } from './watch-cache';

export interface CacheSettings extends WatchSettings {
  /** How long our own write may wait for the watch to deliver it before we read fresh. */
  confirmWithinMs: number;
}

export const DEFAULT_CACHE_SETTINGS: CacheSettings = { ...DEFAULT_WATCH_SETTINGS, confirmWithinMs: 10_000 };

interface Override {
  object: VirtualServiceObject;
  /** The namespace's list generation when recorded: a later list supersedes it. */
  generation: number;
  at: number;
}

export interface CacheStats {
  /** Reads answered from memory. */
  cached: number;
  /** Reads that went to the API server, and why. */
  notSynced: number;
  invalidated: number;
  unconfirmed: number;
  /** Names the watch did not (yet) hold, read from the API server. */
  missed: number;
  /** Patches whose guard failed (the read they were based on was stale, or another writer won). */
  guardFailures: number;
}

/** Told of each object the watch changed (see CachedVirtualServiceApi.onChange). */
export type ChangeListener = (namespace: string, name: string, object: VirtualServiceObject | undefined) => void;

export class CachedVirtualServiceApi implements VirtualServiceApi {
  private readonly watches = new Map<string, NamespaceWatch>();
  private readonly overrides = new Map<string, Override>();
  /** Objects whose next read must come from the API server (a guard failed on a cached read). */
  private readonly invalid = new Set<string>();
  private readonly settings: CacheSettings;
  private stopped = false;
  private readonly listeners: ChangeListener[] = [];
  readonly stats: CacheStats = { cached: 0, notSynced: 0, invalidated: 0, unconfirmed: 0, missed: 0, guardFailures: 0 };

  constructor(
    readonly inner: ClusterVirtualServiceApi,
    settings: Partial<CacheSettings> = {},
  ) {
    this.settings = { ...DEFAULT_CACHE_SETTINGS, ...settings };
  }

  /** Starts watching these namespaces now (others start on first read). */
  start(namespaces: string[]): void {
    for (const namespace of namespaces) this.watchOf(namespace);
  }

  stop(): void {
    this.stopped = true;
    for (const watch of this.watches.values()) watch.stop();
    this.watches.clear();
    this.overrides.clear();
  }

  /**
   * Each watched namespace and whether its cache is in sync. While a watch is not, reads of that
   * namespace go to the API server: still correct, but polls cost API requests again.
   */
  watchStatus(): Array<{ namespace: string; synced: boolean; problem?: string }> {
    return [...this.watches.values()].map((watch) => ({
      namespace: watch.namespace,
      synced: watch.synced,
      ...(watch.synced || !watch.lastProblem ? {} : { problem: watch.lastProblem }),
    }));
  }

  /** The namespace's watch (tests use it to interrupt or expire it, and to wait for sync). */
  watchOf(namespace: string): NamespaceWatch {
    let watch = this.watches.get(namespace);
    if (!watch) {
      watch = new NamespaceWatch(() => this.inner.client(), namespace, this.settings, (name) => this.changed(namespace, name));
      if (!this.stopped) {
        this.watches.set(namespace, watch);
        watch.start();
      }
    }
    return watch;
  }

  /**
   * Calls `listener` with every object the watch adds, changes or relists (undefined: deleted), as
   * the watch holds it. The shift keeper (engine/keeper.ts) arms its timers from these. A listener
   * that throws is ignored: it must never break the watch.
   */
  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  /**
   * The namespace's objects as the synced watch holds them (this replica's own newer writes
   * preferred), or undefined while it is not in sync. For the keeper's periodic resync: a stale
   * copy only makes a timer fire early, and the engine then reads the object as any read does.
   */
  cachedList(namespace: string): VirtualServiceObject[] | undefined {
    const watch = this.watches.get(namespace);
    if (!watch?.synced) return undefined;
    return watch.objectsNow().map((object) => this.overrides.get(keyOf(namespace, object.metadata.name))?.object ?? object);
  }

  async get(namespace: string, name: string): Promise<VirtualServiceObject | undefined> {
    const key = keyOf(namespace, name);
    const watch = this.watchOf(namespace);
    if (!watch.synced) {
      this.stats.notSynced++;
      return this.fresh(namespace, name);
    }
    if (this.invalid.has(key)) {
      this.stats.invalidated++;
      return this.fresh(namespace, name);
    }
    const override = this.overrides.get(key);
    if (override) {
      if (Date.now() - override.at > this.settings.confirmWithinMs) {
        this.stats.unconfirmed++;
        return this.fresh(namespace, name);
      }
      this.stats.cached++;
      return override.object;
    }
    const cached = watch.object(name);
    if (cached) {
      this.stats.cached++;
      return cached;
    }
    // Absence is not trusted: an object created a moment ago (a Deploy Manifest stage right before
    // the shift) may not have reached the watch yet. Misses are rare: only unknown names pay a GET.
    this.stats.missed++;
    return this.fresh(namespace, name);
  }

  /** Listing is rare (resuming shifts at startup): always from the API server. */
  list(namespace: string): Promise<VirtualServiceObject[]> {
    return this.inner.list(namespace);
  }

  async patch(namespace: string, name: string, operations: PatchOperation[]): Promise<VirtualServiceObject> {
    const key = keyOf(namespace, name);
    try {
      const written = await this.inner.patch(namespace, name, operations);
      this.remember(namespace, written);
      return written;
    } catch (error) {
      // A failed guard means our read was stale; any other failure leaves the object's state
      // unknown (a timed-out write may have landed). Either way, the next read must be fresh.
      this.overrides.delete(key);
      this.invalid.add(key);
      if (error instanceof PreconditionFailedError) this.stats.guardFailures++;
      throw error;
    }
  }

  /** Never from the watch: it drops managedFields (watch-cache.ts slim). */
  managedFields(namespace: string, name: string): Promise<ManagedFieldsEntry[] | undefined> {
    return this.inner.managedFields(namespace, name);
  }

  private async fresh(namespace: string, name: string): Promise<VirtualServiceObject | undefined> {
    const object = await this.inner.get(namespace, name);
    this.invalid.delete(keyOf(namespace, name));
    if (object) this.remember(namespace, object);
    else this.overrides.delete(keyOf(namespace, name));
    return object;
  }

  /** Keeps an object we read or wrote until the watch shows the same version. */
  private remember(namespace: string, object: VirtualServiceObject): void {
    const key = keyOf(namespace, object.metadata.name);
    const watch = this.watches.get(namespace);
    if (watch && watch.hasSeen(object.metadata.name, object.metadata.resourceVersion)) {
      this.overrides.delete(key);
      return;
    }
    this.overrides.set(key, { object: slim(object), generation: watch?.generation ?? 0, at: Date.now() });
  }

  private changed(namespace: string, name: string): void {
    this.confirm(namespace, name);
    if (this.listeners.length === 0) return;
    const object = this.watches.get(namespace)?.object(name);
    for (const listener of this.listeners) {
      try {
        listener(namespace, name, object);
      } catch {
        // A listener's trouble is its own (see onChange).
      }
    }
  }

  /** The watch changed an object: an override it has caught up with (or a newer list) is dropped. */
  private confirm(namespace: string, name: string): void {
    const key = keyOf(namespace, name);
    const override = this.overrides.get(key);
    if (!override) return;
    const watch = this.watches.get(namespace);
    if (!watch) return;
    if (watch.hasSeen(name, override.object.metadata.resourceVersion) || watch.generation > override.generation) this.overrides.delete(key);
  }
}

function keyOf(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
