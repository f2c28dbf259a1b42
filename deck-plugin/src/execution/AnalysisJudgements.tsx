/**
 * The analysis part of the execution view: the overall result, why analysis failed the shift (and
 * what happened to traffic), and for every step its state. A judged step shows, above its table of
 * metrics (canary, baseline, change, result, the group's score): the evidence gate (requests,
 * errors, traffic share, short metrics, its problems), the canary's pod events, and each metric's
 * sequential test as an e-value bar. A running step not judged yet shows the service's live progress
 * when the body has it (the last look's e-values on the same bars, the requests so far). Reads the
 * service's status body and the stage's payload; the model is ./analysis-view.ts.
 */
import React from 'react';
import type { ShiftStatus } from '@istio-shift/core';
import { ANALYSIS_INSUFFICIENT_DATA, FAILURE_HEADINGS, analysisView } from './analysis-view';
import type { EvidenceView, JudgementRow, LiveView, PodEventRow, SequentialView, StepAnalysisView } from './analysis-view';

const RESULT_CLASS: Record<string, string> = { Pass: 'its-judge-pass', Marginal: 'its-judge-marginal', Fail: 'its-judge-fail', InsufficientData: 'its-judge-insufficient' };

const ROW_RESULT_CLASS: Record<JudgementRow['state'], string> = {
  judged: '',
  'no-data': 'its-judge-nodata',
  insufficient: 'its-judge-insufficient',
  'stopped-early': 'its-judge-fail',
  'not-judged': 'its-judge-pending',
};

function rowResultClass(row: JudgementRow): string {
  if (row.state !== 'judged') return `${ROW_RESULT_CLASS[row.state]}${row.failed ? ' its-judge-fail' : ''}`;
  return row.failed ? 'its-judge-fail' : 'its-judge-pass';
}

function Evidence({ step, evidence }: { step: number; evidence: EvidenceView }) {
  return (
    <div className={`its-evidence ${evidence.passed ? 'its-evidence-open' : 'its-evidence-shut'}`} data-testid={`evidence-${step}`}>
      <div className="its-panel-title">
        Evidence: <span className={evidence.passed ? 'its-judge-pass' : 'its-judge-insufficient'}>{evidence.passed ? 'enough to judge' : 'not enough to judge'}</span>
      </div>
      <dl className="its-facts">
        <dt>Requests</dt>
        <dd>{evidence.requests}</dd>
        {evidence.errors && (
          <>
            <dt>5xx</dt>
            <dd>{evidence.errors}</dd>
          </>
        )}
        {evidence.trafficShare && (
          <>
            <dt>Canary traffic</dt>
            <dd>{evidence.trafficShare}</dd>
          </>
        )}
        {evidence.shortMetrics.length > 0 && (
          <>
            <dt>Short metrics</dt>
            <dd>{evidence.shortMetrics.join('; ')}</dd>
          </>
        )}
      </dl>
      {evidence.problems.length > 0 && (
        <ul className="its-evidence-problems" data-testid={`evidence-problems-${step}`}>
          {evidence.problems.map((problem, i) => (
            <li key={i}>{problem}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Sequential({ step, note, tests, title = 'Sequential tests' }: { step: number; note?: string; tests: SequentialView[]; title?: string }) {
  return (
    <div className="its-sequential" data-testid={`sequential-${step}`}>
      <div className="its-panel-title">{title}</div>
      {note && <div className="its-note">{note}</div>}
      <table className="table table-condensed its-sequential-table" aria-label={`Sequential tests of step ${step}`}>
        <tbody>
          {tests.map((test, i) => (
            <tr key={`${test.name}-${i}`} data-testid={`sequential-${step}-${test.name}`} className={test.crossed ? 'its-judge-row-failed' : undefined}>
              <th>{test.name}</th>
              <td className="its-evalue-cell">
                <div
                  className="its-evalue-bar"
                  role="meter"
                  aria-label={`Step ${step} ${test.name} e-value`}
                  aria-valuemin={0}
                  aria-valuemax={1}
                  aria-valuenow={test.fill}
                  title="log scale: 1 (no evidence) to the threshold that fails the metric"
                >
                  <div className={`its-evalue-fill${test.crossed ? ' its-evalue-crossed' : ''}`} style={{ width: `${Math.round(test.fill * 100)}%` }} />
                </div>
              </td>
              <td className="its-evalue-text">
                e-value {test.eValue} / {test.threshold}
              </td>
              <td className={test.crossed ? 'its-judge-fail' : 'its-evalue-note'}>{test.note}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function PodEvents({ step, events }: { step: number; events: PodEventRow[] }) {
  return (
    <div className="its-pod-events" data-testid={`pod-events-${step}`}>
      <div className="its-panel-title">Canary pod events</div>
      <table className="table table-condensed" aria-label={`Pod events of step ${step}`}>
        <thead>
          <tr>
            <th>Pod</th>
            <th>Container</th>
            <th>Event</th>
            <th>Reason</th>
            <th>Count</th>
            <th>Metric</th>
          </tr>
        </thead>
        <tbody>
          {events.map((event, i) => (
            <tr key={i}>
              <td>{event.pod}</td>
              <td>{event.container}</td>
              <td>{event.kind}</td>
              <td>{event.reason}</td>
              <td>{event.count}</td>
              <td>{event.metric}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Live({ step, live }: { step: number; live: LiveView }) {
  return (
    <div className="its-live" data-testid={`live-${step}`}>
      <div className="its-judgement-note its-live-summary" data-testid={`live-summary-${step}`}>
        {live.summary}
      </div>
      <div className="its-note">{live.note}</div>
      {(live.requests || live.sequential.length > 0) && (
        <div className="its-judgement-panels">
          {live.requests && (
            <div className="its-evidence" data-testid={`live-evidence-${step}`}>
              <div className="its-panel-title">Evidence so far</div>
              <dl className="its-facts">
                <dt>Requests</dt>
                <dd>{live.requests}</dd>
                {live.errors && (
                  <>
                    <dt>5xx</dt>
                    <dd>{live.errors}</dd>
                  </>
                )}
              </dl>
            </div>
          )}
          {live.sequential.length > 0 && <Sequential step={step} title="Sequential tests so far" tests={live.sequential} />}
        </div>
      )}
    </div>
  );
}

function MetricTable({ view }: { view: StepAnalysisView }) {
  return (
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
        {view.rows.map((row, i) => (
          <tr key={`${row.name}-${i}`} className={row.failed ? 'its-judge-row-failed' : undefined} title={row.reason || undefined} data-testid={`judgement-${view.step}-${row.name}`} data-state={row.state}>
            <td>
              {row.name}
              {row.critical && <span className="its-critical"> critical</span>}
            </td>
            <td>
              {row.canary}
              {row.counts && <div className="its-counts">{row.counts.canary}</div>}
            </td>
            <td>
              {row.baseline}
              {row.counts && <div className="its-counts">{row.counts.baseline}</div>}
            </td>
            <td>{row.change}</td>
            <td className={rowResultClass(row)}>{row.result}</td>
            <td>{row.group ? `${row.group} ${row.groupScore}` : row.groupScore}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function StepAnalysis({ view }: { view: StepAnalysisView }) {
  if (!view.judgement) {
    return (
      <div className={`its-judgement its-step-analysis-${view.state}`} data-testid={`judgement-${view.step}`} data-state={view.state}>
        <h6 className="its-judgement-title its-judge-pending">{view.title}</h6>
        {view.live && <Live step={view.step} live={view.live} />}
      </div>
    );
  }
  const hasPanels = !!view.evidence || view.sequential.length > 0 || view.events.length > 0;
  return (
    <div className={`its-judgement its-step-analysis-${view.state}`} data-testid={`judgement-${view.step}`} data-state={view.state}>
      <h6 className="its-judgement-title">
        Step {view.step}: <span className={RESULT_CLASS[view.result ?? ''] ?? undefined}>{view.resultText}</span>
        {view.detail}
      </h6>
      {view.notes.map((note, i) => (
        <div key={i} className={`its-judgement-note${view.state === 'stopped-early' ? ' its-judge-fail' : ''}`}>
          {note}
        </div>
      ))}
      {hasPanels && (
        <div className="its-judgement-panels">
          {view.evidence && <Evidence step={view.step} evidence={view.evidence} />}
          {view.sequential.length > 0 && <Sequential step={view.step} note={view.sequentialNote} tests={view.sequential} />}
          {view.events.length > 0 && <PodEvents step={view.step} events={view.events} />}
        </div>
      )}
      {view.rows.length > 0 && <MetricTable view={view} />}
    </div>
  );
}

/** The failure's message without its "; weights restored ..." tail when the rollback line below says it. */
function withoutRollback(failure: string, status: ShiftStatus | undefined): string {
  const rollback = status?.rollback?.message;
  return rollback && failure.endsWith(`; ${rollback}`) ? failure.slice(0, -(rollback.length + 2)) : failure;
}

/**
 * Too little evidence: the failure lists the evidence gate's problems, which the step's evidence
 * panel below lists too; the box then says only which step and points there (said once).
 */
function failureText(view: NonNullable<ReturnType<typeof analysisView>>, status: ShiftStatus | undefined): string {
  const failure = withoutRollback(view.failure ?? '', status);
  if (view.failureReason !== ANALYSIS_INSUFFICIENT_DATA) return failure;
  const listed = view.steps.find((step) => (step.evidence?.problems.length ?? 0) > 0 && step.evidence!.problems.every((problem) => failure.includes(problem)));
  const head = /^(.*?too little evidence to judge)(?::|$)/.exec(failure)?.[1];
  return listed && head ? `${head}; step ${listed.step}'s evidence below says what is missing` : failure;
}

/** `live: false` (Orca stopped polling: the body is old) leaves out a running step's live progress. */
export function AnalysisJudgements({ status, payload, live }: { status: ShiftStatus | undefined; payload?: unknown; live?: boolean }) {
  const view = analysisView(status, payload, { live });
  if (!view) return null;
  return (
    <div className="its-analysis-judgements" data-testid="analysis-judgements">
      <h5 className="its-heading">
        Analysis
        {view.overall && (
          <>
            {': '}
            <span className={RESULT_CLASS[view.overall.result] ?? undefined} data-testid="analysis-overall">
              {view.overall.text}
            </span>
          </>
        )}
      </h5>
      {view.failure && (
        <div className={`its-failure alert ${view.failureReason === ANALYSIS_INSUFFICIENT_DATA ? 'alert-warning' : 'alert-danger'}`} data-testid="analysis-failure">
          <strong>{FAILURE_HEADINGS[view.failureReason ?? ''] ?? 'Analysis stopped the shift:'}</strong> {failureText(view, status)}
        </div>
      )}
      {!view.steps.some((step) => step.judgement) && <p className="its-note">No step has been judged yet.</p>}
      {view.steps.map((step, i) => (
        <StepAnalysis key={`${step.step}-${i}`} view={step} />
      ))}
    </div>
  );
}
