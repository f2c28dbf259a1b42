/**
 * One registration of the stage's key, whichever of core and the plugin registers first, on Deck's
 * real PipelineRegistry (@spinnaker/core), not a stand-in: a Deck release that changes what
 * dedupe.ts relies on fails here (and, for the private field, in the type check).
 */
import { PipelineRegistry, SETTINGS } from '@spinnaker/core';
import type { IStageTypeConfig } from '@spinnaker/core';
import { keepOnlyOurStage } from './dedupe';

const KEY = 'istioTrafficShift';
const ours = { key: KEY, label: 'Istio Traffic Shift', alias: 'preconfiguredWebhook', addAliasToConfig: true, component: () => null } as unknown as IStageTypeConfig;
/** What core registers for a preconfigured webhook (webhookStage.ts). */
const webhook = (type: string) => ({ key: type, label: type, alias: 'preconfiguredWebhook', addAliasToConfig: true, templateUrl: 'webhookStage.html' }) as IStageTypeConfig;

/** The registry's entries of a key, as Deck's public API sees them. */
const entries = (registry: PipelineRegistry, key: string) => registry.getStageTypes().filter((s) => s.key === key);
const opens = (registry: PipelineRegistry) => registry.getStageConfig({ type: KEY } as never);

describe('one registration per key, on Deck\'s PipelineRegistry', () => {
  let hiddenBefore: string[] | undefined;
  beforeEach(() => (hiddenBefore = SETTINGS.hiddenStages));
  afterEach(() => (SETTINGS.hiddenStages = hiddenBefore as string[]));

  it('core first: removes core\'s entry, keeps other stages, and getStageConfig opens ours even after it cached core\'s', () => {
    const registry = new PipelineRegistry();
    registry.registerStage(webhook(KEY));
    registry.registerStage({ key: 'wait', label: 'Wait' } as IStageTypeConfig);
    expect(opens(registry).templateUrl).toBe('webhookStage.html'); // memoized now
    registry.registerStage(ours);
    keepOnlyOurStage(registry, ours);
    expect(entries(registry, KEY)).toHaveLength(1);
    expect(entries(registry, KEY)[0].templateUrl).toBeUndefined();
    expect(opens(registry).component).toBe(ours.component);
    expect(registry.getStageTypes().map((s) => s.key)).toEqual(['wait', KEY]);
  });

  it('core later: Deck drops core\'s registration of our key, and registers other webhooks', () => {
    const registry = new PipelineRegistry();
    registry.registerStage(ours);
    keepOnlyOurStage(registry, ours);
    registry.registerStage(webhook(KEY));
    registry.registerStage(webhook('notifyChangeBoard'));
    expect(entries(registry, KEY)).toHaveLength(1);
    expect(opens(registry).component).toBe(ours.component);
    expect(entries(registry, 'notifyChangeBoard')).toHaveLength(1);
    expect(registry.getConfigurableStageTypes().filter((s) => s.key === KEY)).toHaveLength(1);
  });

  it('is idempotent and keeps hiddenStages set by the deployment', () => {
    SETTINGS.hiddenStages = ['someoneElses'];
    const registry = new PipelineRegistry();
    registry.registerStage(ours);
    keepOnlyOurStage(registry, ours);
    keepOnlyOurStage(registry, ours);
    expect(SETTINGS.hiddenStages).toEqual(['someoneElses', KEY]);
    expect(entries(registry, KEY)).toHaveLength(1);
    registry.registerStage(webhook('someoneElses'));
    expect(entries(registry, 'someoneElses')).toHaveLength(0);
  });
});
