/**
 * The analysis part of the execution view: the overall score, why analysis failed the shift (and
 * what happened to traffic), and for every judged step its table of metrics (canary, baseline,
 * change, classification, the group's score). Reads the service's status body; the rows come from
 * ../analysis-model.ts.
 */
import React from 'react';
import type { ShiftStatus } from '@istio-shift/core';
import { ANALYSIS_FAILED, analysisView, StepJudgementView } from '../analysis-model';

const RESULT_CLASS: Record<string, string> = { Pass: 'its-judge-pass', Marginal: 'its-judge-marginal', Fail: 'its-judge-fail' };

function StepTable({ view }: { view: StepJudgementView }) {
  const { judgement } = view;
  return (
    <div className="its-judgement" data-testid={`judgement-${view.step}`}>
      <h6 className="its-judgement-title">
        Step {view.step}: <span className={RESULT_CLASS[judgement.result]}>{judgement.result}</span>, score {Number(judgement.score.toFixed(1))} (pass {judgement.thresholds.pass}, marginal {judgement.thresholds.marginal})
        {judgement.forcedZero === 'critical' && ' — forced to 0 by a failing critical metric'}
        {judgement.forcedZero === 'nodata' && ' — forced to 0: half or more of the metrics have no data'}
      </h6>
      <table className="table table-condensed its-judgement-table" aria-label={`Analysis of step ${view.step}`}>
        <thead>
          <tr>
            <th>Metric</th>
            <th>Canary</th>
            <th>Baseline</th>
            <th>Change</th>
            <th>Result</th>
            <th>Group score</th>
          </tr>
        </thead>
        <tbody>
          {view.rows.map((row) => (
            <tr key={row.name} className={row.failed ? 'its-judge-row-failed' : undefined} title={row.reason} data-testid={`judgement-${view.step}-${row.name}`}>
              <td>
                {row.name}
                {row.critical && <span className="its-critical"> critical</span>}
              </td>
              <td>{row.canary}</td>
              <td>{row.baseline}</td>
              <td>{row.change}</td>
              <td className={row.failed ? 'its-judge-fail' : 'its-judge-pass'}>{row.classification}</td>
              <td>
                {row.group} {row.groupScore}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="its-judgement-summary">{view.summary}</div>
    </div>
  );
}

export function AnalysisJudgements({ status }: { status: ShiftStatus | undefined }) {
  const view = analysisView(status);
  if (!view) return null;
  return (
    <div className="its-analysis-judgements" data-testid="analysis-judgements">
      <h5 className="its-heading">
        Analysis
        {view.overall && (
          <>
            {': '}
            <span className={RESULT_CLASS[view.overall.result]} data-testid="analysis-overall">
              {view.overall.result}, score {Number(view.overall.score.toFixed(1))}
            </span>
          </>
        )}
      </h5>
      {view.failure && (
        <div className="its-failure alert alert-danger" data-testid="analysis-failure">
          <strong>{view.failureReason === ANALYSIS_FAILED ? 'Analysis failed the shift:' : 'Analysis could not run:'}</strong> {view.failure}
        </div>
      )}
      {view.steps.length === 0 && <p className="its-note">No step has been judged yet.</p>}
      {view.steps.map((step) => (
        <StepTable key={step.step} view={step} />
      ))}
    </div>
  );
}
