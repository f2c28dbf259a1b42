/**
 * One "Istio Traffic Shift" entry whatever registers first.
 *
 * Orca runs this stage as a preconfigured webhook, so Deck core also registers the type (with its
 * generic Angular webhook UI) after `GET /webhooks/preconfigured` answers, in a race with plugin
 * loading. Deck's PipelineRegistry keeps both (`registerStage` only pushes), lists both under
 * "Add stage" and opens whichever registered first for both. So, in `initialize()` (which Deck
 * calls after registering the plugin's stages), the plugin:
 *   1. drops foreign registrations of its key that are already there,
 *   2. makes later registrations of its key (core's, when Gate answers late) no-ops,
 *   3. clears the memoized `getStageConfig` lookup, which may have cached core's entry.
 * `stageTypes` is private in the typings but an ordinary array at run time.
 */
import type { IStageTypeConfig } from '@spinnaker/core';

export interface PipelineRegistryInternals {
  stageTypes: IStageTypeConfig[];
  registerStage(config: IStageTypeConfig): void;
  getStageConfig: { cache?: { clear?: () => void } };
}

const GUARDED = '__istioTrafficShiftGuarded';

export function keepOnlyOurStage(registry: PipelineRegistryInternals, ours: IStageTypeConfig): void {
  registry.stageTypes = registry.stageTypes.filter((config) => config.key !== ours.key || config === ours);
  if (!registry.stageTypes.includes(ours)) registry.stageTypes.push(ours);

  const guarded = registry as PipelineRegistryInternals & { [GUARDED]?: Map<string, IStageTypeConfig> };
  if (!guarded[GUARDED]) {
    const owners = new Map<string, IStageTypeConfig>();
    const register = registry.registerStage.bind(registry);
    guarded.registerStage = (config: IStageTypeConfig) => {
      const owner = owners.get(config.key);
      if (owner && config !== owner) return; // e.g. core's preconfigured-webhook entry arriving late
      register(config);
    };
    guarded[GUARDED] = owners;
  }
  guarded[GUARDED]!.set(ours.key, ours);
  registry.getStageConfig.cache?.clear?.();
}
