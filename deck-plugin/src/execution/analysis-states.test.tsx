/**
 * The analysis part of the execution view for every state a metric or a step can be in, from status
 * bodies shaped like the service's: judged, no data (the service writes {"count": 0} without a mean),
 * not enough data, not judged yet, skipped, stopped early by a sequential test.
 */
import React from 'react';
import { render, screen } from '@testing-library/react';
import type { MetricJudgement } from '@istio-shift/core';
import { AnalysisJudgements } from './AnalysisJudgements';
import { analysisView, formatValue } from '../analysis-model';
import { judgement, metric, statusWith } from '../../test/fixtures/judgement-shapes';

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
