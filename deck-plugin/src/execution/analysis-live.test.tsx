/**
 * The live progress of a running step (steps[i].progress: the last look of the service replica that
 * answered): shown in the step's panel while the step runs and is not judged yet, with the e-value
 * bars of the judged steps, and left out when it is absent, the shift ended, or Orca stopped polling.
 */
import React from 'react';
import { render, screen } from '@testing-library/react';
import type { Application, IExecutionStage } from '@spinnaker/core';
import type { ShiftStatus, StepProgress } from '@istio-shift/core';
import { AnalysisJudgements } from './AnalysisJudgements';
import { analysisView, liveView } from './analysis-view';
import { IstioTrafficShiftExecutionDetails } from './IstioTrafficShiftExecutionDetails';
import { judgement, statusWith } from '../../test/fixtures/judgement-shapes';
import running from '../../test/fixtures/orca-stage-context.json';

const PAYLOAD = { steps: [{ weights: [90, 5, 5], pause: '10m' }, { weights: [34, 33, 33], pause: '20m' }, { weights: [100, 0, 0] }], analysis: { source: 'prometheus', metrics: [{ name: 'success-rate' }, { name: 'latency-p99' }] } };

function progress(overrides: Partial<StepProgress> = {}): StepProgress {
  return {
    at: '2026-12-06T10:04:12.345Z',
    looks: 6,
    metrics: [
      { name: 'success-rate', eValue: 2.1, maxEValue: 3.5, threshold: 150, crossed: false, intervals: 6 },
      { name: 'latency-p99', eValue: 37, maxEValue: 37, threshold: 900, crossed: false, intervals: 6 },
    ],
    evidence: { requests: { canary: 1830, baseline: 1822 }, errors: { canary: 3, baseline: 2 } },
    ...overrides,
  };
}

/** Step 1 judged, step 2 running with `live` as its progress. */
function runningStatus(live: StepProgress | undefined, extra: Partial<ShiftStatus> = {}): ShiftStatus {
  const status = statusWith([judgement(), null, null], { currentStep: 2, ...extra });
  status.steps[2].pauseSeconds = 0;
  if (live) status.steps[1].progress = live;
  return status;
}

const text = (testId: string) => screen.getByTestId(testId).textContent;

describe('the live progress of a running step', () => {
  it('shows the metric nearest its threshold in one line, every tested metric as an e-value bar, and the requests so far', () => {
    render(<AnalysisJudgements status={runningStatus(progress())} payload={PAYLOAD} />);
    expect(screen.getByTestId('judgement-2').getAttribute('data-state')).toBe('not-judged');
    expect(screen.getByTestId('judgement-2').querySelector('h6')!.textContent).toBe('Step 2: not judged yet');
    // latency-p99: log 37 / log 900 = 0.53 of the way; success-rate: log 2.1 / log 150 = 0.15.
    expect(text('live-summary-2')).toBe('live: latency-p99 e-value 37 / 900 after 6 intervals, canary 1,830 requests');
    expect(text('live-2')).toContain('From the last look (at 10:04:12 UTC, look 6 of this step) of the service replica that answered');
    expect(text('live-evidence-2')).toBe('Evidence so farRequestscanary 1,830 / baseline 1,8225xxcanary 3 / baseline 2');
    expect(text('sequential-2')).toMatch(/^Sequential tests so far/);
    expect(text('sequential-2-success-rate')).toBe('success-ratee-value 2.1 / 1506 intervals, peak 3.5');
    expect(Number(screen.getByRole('meter', { name: 'Step 2 latency-p99 e-value' }).getAttribute('aria-valuenow'))).toBeCloseTo(Math.log(37) / Math.log(900), 5);
    // The judged step keeps its own panels; only the running one is live.
    expect(screen.queryByTestId('live-1')).toBeNull();
    expect(screen.queryByTestId('live-3')).toBeNull();
  });

  it('with one tested metric reads like the service\'s own numbers', () => {
    const one = progress({ metrics: [{ name: 'latency-p99', eValue: 37, maxEValue: 37, threshold: 900, crossed: false, intervals: 6 }] });
    expect(liveView(one)?.summary).toBe('live: e-value 37 / 900 after 6 intervals, canary 1,830 requests');
  });

  it('fixed mode (no tested metric) and no request counts: the looks so far, and no panels', () => {
    render(<AnalysisJudgements status={runningStatus(progress({ metrics: [], evidence: null, looks: 1 }))} payload={PAYLOAD} />);
    expect(text('live-summary-2')).toBe('live: 1 look so far');
    expect(screen.queryByTestId('live-evidence-2')).toBeNull();
    expect(screen.queryByTestId('sequential-2')).toBeNull();
  });

  it('is absent without progress (another replica answered, or it restarted): the step is just not judged yet', () => {
    render(<AnalysisJudgements status={runningStatus(undefined)} payload={PAYLOAD} />);
    expect(text('judgement-2')).toBe('Step 2: not judged yet');
    expect(screen.queryByTestId('live-2')).toBeNull();
  });

  it('is left out once the shift ended, or when the caller says the body is old', () => {
    render(<AnalysisJudgements status={runningStatus(progress(), { status: 'TERMINAL' })} payload={PAYLOAD} />);
    expect(screen.queryByTestId('live-2')).toBeNull();
    expect(analysisView(runningStatus(progress()), PAYLOAD, { live: false })!.steps[1].live).toBeUndefined();
  });

  it('tolerates a progress of any shape', () => {
    for (const odd of [null, 'x', [], {}, { metrics: 'no', evidence: { requests: 3 } }, { metrics: [null, { name: 7, eValue: 'big' }], looks: NaN, at: 'yesterday' }]) {
      const status = runningStatus(undefined);
      (status.steps[1] as unknown as Record<string, unknown>).progress = odd;
      const { container, unmount } = render(<AnalysisJudgements status={status} payload={PAYLOAD} />);
      expect(container.textContent).not.toMatch(/NaN|undefined|Infinity/);
      unmount();
    }
    expect(liveView({})?.summary).toBe('live: looking');
  });

  it('appears in the execution tab while Orca polls, and not after Orca stopped polling', () => {
    const show = (stageStatus: string) => {
      const stage = JSON.parse(JSON.stringify(running));
      stage.status = stageStatus;
      stage.context.webhook.monitor.body.steps[1].progress = progress();
      return render(
        <IstioTrafficShiftExecutionDetails stage={stage as IExecutionStage} name="istioTrafficShift" current="istioTrafficShift" application={{} as Application} execution={{} as never} provider="" detailsSections={[]} config={{} as never} />,
      );
    };
    const { unmount } = show('RUNNING');
    expect(text('live-summary-2')).toBe('live: latency-p99 e-value 37 / 900 after 6 intervals, canary 1,830 requests');
    unmount();
    show('CANCELED');
    expect(screen.queryByTestId('live-2')).toBeNull();
  });
});
