/**
 * Issue 16, item 7 (wording): the pod-labels message speaks of the key=value input; the rejected
 * view counts steps from 1 as the form does; the overall analysis result of a running or
 * cancelled shift says which step it is about when the current step was never judged.
 */
import React from 'react';
import { render, screen } from '@testing-library/react';
import { referenceAnalysis } from '@istio-shift/core';
import { analysisProblems } from './analysis-model';
import { istioTrafficShiftStage } from './index';
import { failureReasons } from './execution/outcome';
import { AnalysisJudgements } from './execution/AnalysisJudgements';
import { judgement, statusWith } from '../test/fixtures/judgement-shapes';
import rejectedStage from '../test/fixtures/orca-stage-context-rejected.json';

const PAYLOAD = {
  account: 'prod-k8s',
  namespace: 'shop',
  virtualService: 'checkout',
  route: { protocol: 'http', name: 'primary' },
  destinations: [{ host: 'checkout', subset: 'baseline' }, { host: 'checkout', subset: 'canary' }],
  steps: [{ weights: [90, 10], pause: '10m' }, { weights: [0, 100] }],
};

describe('wording', () => {
  it('pod labels that are not key=value pairs: the message speaks of the input, not of a JSON object', () => {
    const analysis = referenceAnalysis({ canary: { workload: 'checkout-canary', podSelector: 'app checkout' as never }, baseline: { workload: 'checkout-baseline' } });
    const here = analysisProblems({ ...PAYLOAD, analysis }).filter((p) => p.place === 'analysis.scopes.canary.podSelector');
    expect(here.map((p) => p.message)).toEqual(['Canary pod labels must be key=value pairs separated by commas, such as app=checkout, track=canary']);
    // Deck's stage warnings (the validateFn's errors) carry the same text.
    const stage = { refId: '2', payload: { ...PAYLOAD, stageRef: '2', analysis } } as never;
    expect(JSON.stringify(istioTrafficShiftStage.validateFn!(stage, {} as never))).toContain(here[0].message);
  });

  it('a rejected create counts steps from 1, as the form does', () => {
    const reasons = failureReasons(JSON.parse(JSON.stringify(rejectedStage)));
    expect(reasons).toEqual(['Step 2 weights sum to 99; they must sum to 100 (add 1)']);
  });

  const judged = { score: 100, result: 'Pass' as const, step: 1 };
  it.each([
    ['RUNNING', 'Step 1: Pass, score 100 (step 2 not judged yet)'],
    ['CANCELED', 'Step 1: Pass, score 100 (step 2 was not judged)'],
  ] as const)('a %s shift whose current step was never judged: the result names its step', (phase, expected) => {
    const status = statusWith([judgement(), null], { status: phase, currentStep: 2, analysis: judged });
    render(<AnalysisJudgements status={status} />);
    expect(screen.getByTestId('analysis-overall').textContent).toBe(expected);
  });

  it('a finished shift, or one whose current step is the judged one, keeps the plain result', () => {
    const status = statusWith([judgement(), null], { status: 'SUCCEEDED', currentStep: 2, analysis: judged });
    render(<AnalysisJudgements status={status} />);
    expect(screen.getByTestId('analysis-overall').textContent).toBe('Pass, score 100');
  });
});
