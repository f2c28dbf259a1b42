/**
 * Issue 16, item 3: a step's pause against the analysis warm-up/interval is shown under the fields
 * the author can change (the step's pause, the analysis warm-up), in the form's words, without a
 * touch; Deck's stage warnings (the validateFn's errors, flattened as Deck's footer popover does)
 * carry the same text and never name a per-step warm-up the form has no input for.
 */
import React from 'react';
import { render, screen, within } from '@testing-library/react';
import { AccountService, ManifestReader } from '@spinnaker/core';
import type { Application, IPipeline, IStage } from '@spinnaker/core';
import { referenceAnalysis } from '@istio-shift/core';
import { istioTrafficShiftStage } from './index';

const PAYLOAD = {
  account: 'prod-k8s',
  namespace: 'shop',
  virtualService: 'checkout',
  route: { protocol: 'http', name: 'primary' },
  destinations: [{ host: 'checkout', subset: 'baseline' }, { host: 'checkout', subset: 'canary' }],
  steps: [{ weights: [90, 10], pause: '30s' }, { weights: [50, 50], pause: '80s' }, { weights: [0, 100] }],
  onCancel: 'rollback',
  pruneUnlisted: false,
  executionId: '${execution.id}',
  stageRef: '2',
  analysis: referenceAnalysis({ canary: { workload: 'checkout-canary' }, baseline: { workload: 'checkout-baseline' } }),
};

beforeEach(() => {
  jest.spyOn(AccountService, 'listAccounts').mockResolvedValue([]);
  jest.spyOn(ManifestReader, 'getManifest').mockRejectedValue({ status: 404, data: { message: 'Manifest not found' } });
});
afterEach(() => jest.restoreAllMocks());

/** Deck's footer popover: every string of the validateFn's errors (core's flattenValues). */
function deckWarnings(stage: object): string[] {
  const out: string[] = [];
  const walk = (node: unknown) => (typeof node === 'string' ? out.push(node) : node && typeof node === 'object' && Object.values(node).forEach(walk));
  walk(istioTrafficShiftStage.validateFn!(stage as IStage, { pipeline: {} as IPipeline }));
  return out;
}

const WARMUP = 'Step 1 pauses 30s, shorter than the analysis warm-up (1m): lengthen the pause, shorten the warm-up, or tick "skip analysis" for step 1';
const WINDOW = 'Step 2 pauses 1m20s, which leaves 20s after the analysis warm-up (1m); judging needs two of the analysis interval (30s): lengthen the pause to at least 2m, or shorten the warm-up or interval';

describe('pause vs analysis timing', () => {
  it('is shown under the pause and the warm-up, before any touch, with the text of Deck\'s stage warnings', async () => {
    const stage = { refId: '2', requisiteStageRefIds: ['1'], type: 'istioTrafficShift', name: 'Shift', alias: 'preconfiguredWebhook', payload: JSON.parse(JSON.stringify(PAYLOAD)) } as IStage;
    const Component = istioTrafficShiftStage.component!;
    render(<Component application={{ name: 'shop' } as Application} stage={stage} pipeline={{ stages: [stage] } as unknown as IPipeline} updateStage={() => undefined} updateStageField={() => undefined} stageFieldUpdated={() => undefined} />);
    await screen.findByTestId('analysis-section');
    const warnings = deckWarnings({ ...stage, stageTimeoutMs: 10 * 3600 * 1000 });
    expect(warnings).toEqual([WARMUP, WINDOW]);
    // Under each step's pause, without a touch.
    const pauseCell = (i: number) => within(screen.getByTestId(`step-row-${i}`)).getByLabelText(`Pause after step ${i + 1}`).closest('td')!;
    await screen.findByText(WARMUP, { exact: false, selector: '.its-message' });
    expect(pauseCell(0).textContent).toContain(WARMUP);
    expect(pauseCell(1).textContent).toContain(WINDOW);
    // Under the analysis warm-up, the same text.
    const atWarmup = screen.getByTestId('analysis-message-analysis.warmup').textContent!;
    expect(atWarmup).toContain(WARMUP);
    expect(atWarmup).toContain(WINDOW);
    // Nowhere a per-step warm-up the form has no input for.
    expect(document.body.textContent).not.toMatch(/Step \d+, analysis warm-up/);
    warnings.forEach((w) => expect(w).not.toMatch(/analysis warm-up\b.*Step \d+, analysis|steps\[/));
  });
});
