/**
 * The Deck plugin module. Deck `import()`s this file and registers `plugin`: the stage (editor,
 * validation, execution details), then calls `initialize`, which makes this stage the only
 * registration of its type (see dedupe.ts).
 */
import { Registry } from '@spinnaker/core';
import type { IDeckPlugin } from '@spinnaker/core';
import { injectStyles } from './styles';
import { PipelineRegistryInternals, keepOnlyOurStage } from './dedupe';
import { istioTrafficShiftStage } from './stage';

export { istioTrafficShiftStage } from './stage';
export { keepOnlyOurStage } from './dedupe';

injectStyles();

export const plugin: IDeckPlugin = {
  stages: [istioTrafficShiftStage],
  initialize() {
    keepOnlyOurStage(Registry.pipeline as unknown as PipelineRegistryInternals, istioTrafficShiftStage);
  },
};
