/**
 * One "Istio Traffic Shift" entry whatever registers first.
 *
 * Orca runs this stage as a preconfigured webhook, so Deck core also registers the type (with its
 * generic Angular webhook UI) after `GET /webhooks/preconfigured` answers, in a race with plugin
 * loading. Deck still needs help here (read in @spinnaker/core 0.29.1, `PipelineRegistry.ts` and
 * `webhookStage.ts`): core registers every preconfigured webhook unconditionally, `registerStage`
 * only appends, the "Add stage" list shows every entry, and `getStageConfig` opens the first
 * registration of a key for both. So, in `initialize()` (which Deck calls after registering the
 * plugin's stages), the plugin:
 *
 *   1. Later registrations (core's, when Gate answers after the plugin loaded): through public
 *      API only. It adds its key to `SETTINGS.hiddenStages`, which `registerStage` itself checks:
 *      core's registration of the key is then dropped by Deck, and ours is already in.
 *   2. Earlier registrations (core's, when Gate answered first): Deck has no public API that
 *      removes or replaces a registration (`getStageTypes()` returns deep copies). The one
 *      remaining access to a private member is `registry['stageTypes']`, written as an element
 *      access on Deck's own `PipelineRegistry` type, so a Deck release that renames or removes
 *      the field is a type error here (`tsc -p deck-plugin`), not a silent failure; and
 *      `dedupe.test.ts` runs this against Deck's real `PipelineRegistry`. When it removed an
 *      entry it also clears `getStageConfig`'s memo (lodash `memoize`), which may hold core's.
 */
import { SETTINGS } from '@spinnaker/core';
import type { IStageTypeConfig, PipelineRegistry } from '@spinnaker/core';

/** @deprecated the registry is now Deck's own `PipelineRegistry` type; kept for callers' casts. */
export type PipelineRegistryInternals = PipelineRegistry;

/** Deck's settings object, as far as this file uses it (`SETTINGS` in production). */
export interface StageSettings {
  hiddenStages?: string[];
}

export function keepOnlyOurStage(registry: PipelineRegistry, ours: IStageTypeConfig, settings: StageSettings = SETTINGS): void {
  // 2. Drop registrations of our key that came before ours (not public: see above).
  const registered: IStageTypeConfig[] | undefined = registry['stageTypes'];
  if (Array.isArray(registered)) {
    const foreign = registered.filter((config) => config.key === ours.key && config !== ours);
    if (foreign.length > 0) {
      for (const config of foreign) registered.splice(registered.indexOf(config), 1);
      (registry.getStageConfig as { cache?: { clear?: () => void } }).cache?.clear?.();
    }
    // Ours is there (Deck registered it before initialize), unless hiddenStages already held our key.
    if (!registered.includes(ours)) registered.push(ours);
  }
  // 1. Make Deck drop every later registration of our key (public: Deck's own hiddenStages check).
  const hidden = settings.hiddenStages ?? [];
  if (!hidden.includes(ours.key)) settings.hiddenStages = [...hidden, ours.key];
}
