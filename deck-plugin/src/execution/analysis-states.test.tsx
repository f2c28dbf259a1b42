/**
 * The analysis part of the execution view for every state a metric or a step can be in, from status
 * bodies shaped like the service's: judged, no data (the service writes {"count": 0} without a mean),
 * not enough data, not judged yet, skipped, stopped early by a sequential test.
 */
import React from 'react';
import { render, screen } from '@testing-library/react';
import type { MetricJudgement, ShiftStatus, StepJudgement } from '@istio-shift/core';
import { AnalysisJudgements } from './AnalysisJudgements';
import { analysisView, formatValue } from './analysis-view';
import { judgement, metric, statusWith } from '../../test/fixtures/judgement-shapes';
import { analysisPassedStage, insufficientDataStage, noDataStage, stoppedEarlyStage } from '../../test/fixtures/analysis';

const cells = (step: number, name: string) => Array.from(screen.getByTestId(`judgement-${step}-${name}`).querySelectorAll('td')).map((td) => td.textContent);

describe('a judged metric without data', () => {
  // What the service writes for a metric no series answered: a summary with only its count.
  const noMean = { count: 0 } as unknown as MetricJudgement['canary'];

  it('renders "no data" instead of crashing when the summaries have no mean', () => {
    const j = judgement({
      metrics: [metric({ name: 'latency-p99', metric: 'latency-p99', classification: 'NodataFail', failed: true, canary: noMean, baseline: noMean, ratio: undefined as unknown as null, reason: 'no data' })],
    });
    render(<AnalysisJudgements status={statusWith([j])} />);
    expect(cells(1, 'latency-p99').slice(1, 4)).toEqual(['no data', 'no data', '—']);
    expect(document.body.textContent).not.toMatch(/NaN|undefined|Infinity/);
  });

  it('every value accessor tolerates undefined, missing and non-finite fields', () => {
    for (const value of [undefined, null, NaN, Infinity, -Infinity, '12', {}]) expect(formatValue('latency-p99', value as never)).toBe('no data');
    const m = { name: 'x', metric: 'cpu', group: 'kubernetes' } as unknown as MetricJudgement;
    const view = analysisView(statusWith([judgement({ metrics: [m], groups: [] })]))!;
    expect(view.steps[0].rows[0]).toMatchObject({ canary: 'no data', baseline: 'no data', change: '—' });
  });
});

const show = (stage: { context: { payload: unknown; webhook: { monitor: { body: unknown } } } }) =>
  render(<AnalysisJudgements status={stage.context.webhook.monitor.body as ShiftStatus} payload={stage.context.payload} />);
const text = (testId: string) => screen.getByTestId(testId).textContent;
const state = (testId: string) => screen.getByTestId(testId).getAttribute('data-state');

describe('every state of a step and a metric has its own display', () => {
  it('judged, passed: the evidence gate, the sequential tests as e-value bars, error counts and pod events above the table', () => {
    show(analysisPassedStage());
    expect(text('analysis-overall')).toBe('Pass, score 100');
    expect(screen.getByTestId('judgement-2').querySelector('h6')!.textContent).toBe('Step 2: Pass, score 100 (pass 75, marginal 50)');
    expect(state('judgement-2')).toBe('judged');
    expect(text('evidence-2')).toMatch(/^Evidence: enough to judgeRequestscanary 5,982 \/ baseline 6,022 \(the canary needs 50\)5xxcanary 22 \/ baseline 12Canary traffic\d+% of its expected share \(at least 50%; weights canary\/baseline 1\)$/);
    expect(screen.queryByTestId('evidence-problems-2')).toBeNull();
    expect(text('sequential-2')).toContain('Alpha 0.01 split over 4 tested metrics by weight; a metric fails when its e-value reaches 1 / its share.');
    expect(text('sequential-2-latency-p99')).toMatch(/^latency-p99e-value 0\.\d+ \/ \d+20 intervals(, peak [\d.]+)?$/);
    expect(screen.getByRole('meter', { name: 'Step 2 latency-p99 e-value' }).getAttribute('aria-valuenow')).toBe('0');
    // A canary pod restarted once, like a baseline pod: listed, and the metric passes (maxIncrease 0).
    expect(Array.from(screen.getByTestId('pod-events-2').querySelectorAll('tbody td')).map((td) => td.textContent)).toEqual(['checkout-canary-7d9f8-x2kq', 'app', 'restart', 'Evicted', '1', 'restarts']);
    expect(cells(2, 'restarts')[4]).toBe('Pass');
    expect(cells(2, 'success-rate')[1]).toMatch(/^99\.\d+%22 of 5,982 failed$/);
    expect(screen.queryByTestId('pod-events-1')).toBeNull();
    expect(text('judgement-3')).toBe('Step 3: not analysed (no pause)');
  });

  it('stopped early by the sequential tests: which crossed and when; the metrics not judged say so', () => {
    show(stoppedEarlyStage());
    expect(state('judgement-2')).toBe('stopped-early');
    expect(screen.getByTestId('judgement-2').querySelector('h6')!.textContent).toBe('Step 2: Fail, score 0 (pass 75, marginal 50) — forced to 0 by a failing critical metric');
    expect(screen.getByTestId('judgement-2').textContent).toContain('Stopped before the window ended: the sequential test of success-rate, latency-p99 crossed its threshold. The other metrics were not judged.');
    expect(text('sequential-2-success-rate')).toMatch(/^success-ratee-value [\d.e+]+ \/ \d+crossed at interval \d of 14, peak [\d.e+]+$/);
    expect(text('sequential-2-latency-p99')).toMatch(/^latency-p99e-value \d+ \/ \d+crossed at interval 1\d of 14, peak \d+$/);
    expect(screen.getByRole('meter', { name: 'Step 2 latency-p99 e-value' }).getAttribute('aria-valuenow')).toBe('1');
    expect(cells(2, 'latency-p99')[4]).toBe('High: stopped the step');
    expect(screen.getByTestId('judgement-2-latency-p99').getAttribute('data-state')).toBe('stopped-early');
    expect(cells(2, 'cpu')).toEqual(['cpu', '—', '—', '—', 'Not judged (the step stopped first)', '—']);
    expect(screen.getByTestId('judgement-2-cpu').getAttribute('title')).toBe('the step stopped before its window ended, before this metric was judged');
    // A mid-window judgement has no evidence gate: none is shown.
    expect(screen.queryByTestId('evidence-2')).toBeNull();
  });

  it('no data: the metrics Prometheus had nothing for read "No data (fails)"', () => {
    show(noDataStage());
    expect(cells(1, 'latency-p99')).toEqual(['latency-p99', 'no data', 'no data', '—', 'No data (fails)', 'istio 50 (1/2, weight 60)']);
    expect(cells(1, 'cpu')[4]).toBe('No data (fails)');
    expect(screen.getByTestId('judgement-1-cpu').getAttribute('data-state')).toBe('no-data');
    expect(text('judgement-2')).toBe('Step 2: not judged (the shift ended first)');
    expect(document.body.textContent).not.toMatch(/NaN|undefined|Infinity/);
  });

  it('not enough data: no verdict, the gate\'s numbers and problems, the short metrics; the shift ended before later steps', () => {
    show(insufficientDataStage());
    expect(text('analysis-failure')).toBe("Too little evidence to judge the canary: step 1 has too little evidence to judge; step 1's evidence below says what is missing");
    expect(screen.getByTestId('analysis-failure').className).toBe('its-failure alert alert-warning');
    // The score of a step without enough evidence is not counted: the overall result does not show it as one (issue 16, item 7).
    expect(text('analysis-overall')).toBe('Not enough data, no verdict');
    expect(state('judgement-1')).toBe('insufficient');
    expect(screen.getByTestId('judgement-1').querySelector('h6')!.textContent).toBe('Step 1: Not enough data, no verdict (score 100 not counted; pass 75)');
    expect(text('evidence-1')).toMatch(/^Evidence: not enough to judgeRequestscanary 7 \/ baseline \d+ \(the canary needs 50\)/);
    expect(text('evidence-1')).toContain('Canary traffic2.3% of its expected share (at least 50%; weights canary/baseline 1)');
    expect(text('evidence-1')).toContain('Short metricslatency-p99: 2 canary and 2 baseline points (needs 3 each); cpu: 2 canary and 2 baseline points (needs 3 each)');
    expect(screen.getByTestId('evidence-problems-1').querySelectorAll('li')).toHaveLength(5);
    expect(text('evidence-problems-1')).toContain('the canary received 7 requests; at least 50 are needed (evidence.minRequests)');
    expect(cells(1, 'latency-p99')[4]).toBe('Not enough data (2 of 3 canary, 2 of 3 baseline points)');
    expect(screen.getByTestId('judgement-1-latency-p99').getAttribute('data-state')).toBe('insufficient');
    expect(text('judgement-2')).toBe('Step 2: not judged (the shift ended first)');
    expect(text('judgement-3')).toBe('Step 3: not analysed (no pause)');
  });

  it('skipped and not judged yet: a shift with analysis and no judgement lists its steps', () => {
    const payload = { steps: [{ weights: [90, 5, 5], pause: '10m', analysis: { skip: true } }, { weights: [34, 33, 33], pause: '20m' }, { weights: [100, 0, 0] }], analysis: { source: 'prometheus', metrics: [] } };
    const status = statusWith([null, null, null]);
    status.steps[2].pauseSeconds = 0;
    render(<AnalysisJudgements status={status} payload={payload} />);
    expect(screen.getByTestId('analysis-judgements').textContent).toBe(
      'AnalysisNo step has been judged yet.Step 1: analysis skipped (skip analysis is set)Step 2: not judged yetStep 3: not analysed (no pause)',
    );
    expect(state('judgement-1')).toBe('skipped');
  });

  it('a shift without analysis shows nothing', () => {
    const { container } = render(<AnalysisJudgements status={statusWith([null])} payload={{ steps: [{ weights: [100], pause: '1m' }] }} />);
    expect(container.innerHTML).toBe('');
  });

  it('hand-made judgement: counts, gate and sequential budget from the stored fields only', () => {
    render(<AnalysisJudgements status={statusWith([judgement()])} />);
    expect(cells(1, 'success-rate')).toEqual(['success-rate critical', '99.9%6 of 6,012 failed', '99.9%5 of 5,990 failed', '5xx ×1.2', 'Pass', 'istio 100 (2/2, weight 60)']);
    expect(text('sequential-1-success-rate')).toBe('success-ratee-value 0.4 / 40018 intervals, peak 1.3');
    expect(text('evidence-1')).toBe('Evidence: enough to judgeRequestscanary 6,012 / baseline 5,990 (the canary needs 50)5xxcanary 6 / baseline 5Canary traffic100% of its expected share (at least 50%; weights canary/baseline 1)');
    expect(text('sequential-1')).toContain('Alpha 0.01 split over 4 tested metrics by weight; a metric fails when its e-value reaches 1 / its share.');
  });

  it('a judgement stored before the weighted alpha split (one metricAlpha) still says where each metric fails', () => {
    const old = judgement({ sequential: { alpha: 0.01, metricAlpha: 0.0025, tested: 4 } as unknown as StepJudgement['sequential'] });
    render(<AnalysisJudgements status={statusWith([old])} />);
    expect(text('sequential-1')).toContain('Alpha 0.01 split over 4 tested metrics; each fails at e-value 400.');
  });
});
