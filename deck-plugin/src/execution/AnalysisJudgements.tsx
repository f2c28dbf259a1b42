/**
 * The analysis part of the execution view: the overall result, why analysis failed the shift (and
 * what happened to traffic), and for every step its state. A judged step shows, above its table of
 * metrics (canary, baseline, change, result, the group's score): the evidence gate (requests,
 * errors, traffic share, short metrics, its problems), the canary's pod events, and each metric's
 * sequential test as an e-value bar. A running step not judged yet shows the service's live progress
 * when the body has it (the last look's e-values on the same bars, the requests so far). Reads the
 * service's status body and the stage's payload; the model (all the words) is ./analysis-view.ts.
 */
import React from 'react';
import type { ShiftStatus } from '@istio-shift/core';
import { analysisView } from './analysis-view';
import type { AnalysisView, JudgementRow, SequentialView, StepAnalysisView } from './analysis-view';
import { Cells, Facts, Table } from './parts';

/** The colour of a result: its-judge-pass, -marginal, -fail, -insufficient. */
const RESULT_TONE: Record<string, string> = { Pass: 'pass', Marginal: 'marginal', Fail: 'fail', InsufficientData: 'insufficient' };
const resultClass = (result = '') => (RESULT_TONE[result] ? `its-judge-${RESULT_TONE[result]}` : undefined);

/** The colour of a metric's result by its state; a failed metric is also red. */
const ROW_TONE: Record<JudgementRow['state'], string> = { judged: 'pass', 'no-data': 'nodata', insufficient: 'insufficient', 'stopped-early': 'fail', 'not-judged': 'pending' };
const rowResultClass = (row: JudgementRow) => (row.failed ? `${row.state === 'judged' ? '' : `its-judge-${ROW_TONE[row.state]} `}its-judge-fail` : `its-judge-${ROW_TONE[row.state]}`);

/** How the failure box introduces the service's message, by failure reason. */
const FAILURE_HEADINGS: Record<string, string> = {
  ANALYSIS_FAILED: 'Analysis failed the shift:',
  ANALYSIS_UNAVAILABLE: 'Analysis could not run:',
  ANALYSIS_INSUFFICIENT_DATA: 'Too little evidence to judge the canary:',
};
const INSUFFICIENT = 'ANALYSIS_INSUFFICIENT_DATA';

/** A panel beside the metric table: a title, then its content. */
function Panel({ className, testId, title, children }: { className: string; testId: string; title: React.ReactNode; children: React.ReactNode }) {
  return (
    <div className={className} data-testid={testId}>
      <div className="its-panel-title">{title}</div>
      {children}
    </div>
  );
}

function Sequential({ step, note, tests, title = 'Sequential tests' }: { step: number; note?: string; tests: SequentialView[]; title?: string }) {
  return (
    <Panel className="its-sequential" testId={`sequential-${step}`} title={title}>
      {note && <div className="its-note">{note}</div>}
      <Table className="its-sequential-table" label={`Sequential tests of step ${step}`}>
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
      </Table>
    </Panel>
  );
}

/** The panels of a step: the evidence gate, the sequential tests and the pod events (judged), or the live progress. */
function Panels({ view: { step, evidence, sequential = [], sequentialNote, events = [], live } }: { view: StepAnalysisView }) {
  const tests = live ? live.sequential : sequential;
  if (!evidence && !live?.facts.length && !tests.length && !events.length) return null;
  return (
    <div className="its-judgement-panels">
      {evidence && (
        <Panel
          className={`its-evidence its-evidence-${evidence.passed ? 'open' : 'shut'}`}
          testId={`evidence-${step}`}
          title={
            <>
              Evidence: <span className={evidence.passed ? 'its-judge-pass' : 'its-judge-insufficient'}>{evidence.passed ? 'enough to judge' : 'not enough to judge'}</span>
            </>
          }
        >
          <Facts lines={evidence.facts} />
          {evidence.problems.length > 0 && (
            <ul className="its-evidence-problems" data-testid={`evidence-problems-${step}`}>
              {evidence.problems.map((problem, i) => (
                <li key={i}>{problem}</li>
              ))}
            </ul>
          )}
        </Panel>
      )}
      {!!live?.facts.length && (
        <Panel className="its-evidence" testId={`live-evidence-${step}`} title="Evidence so far">
          <Facts lines={live.facts} />
        </Panel>
      )}
      {tests.length > 0 && <Sequential step={step} note={sequentialNote} tests={tests} title={live && 'Sequential tests so far'} />}
      {events.length > 0 && (
        <Panel className="its-pod-events" testId={`pod-events-${step}`} title="Canary pod events">
          <Table label={`Pod events of step ${step}`} head={['Pod', 'Container', 'Event', 'Reason', 'Count', 'Metric']}>
            {events.map((event, i) => (
              <tr key={i}>
                <Cells cells={event} />
              </tr>
            ))}
          </Table>
        </Panel>
      )}
    </div>
  );
}

function MetricTable({ step, rows }: { step: number; rows: JudgementRow[] }) {
  return (
    <Table className="its-judgement-table" label={`Analysis of step ${step}`} head={['Metric', 'Canary', 'Baseline', 'Change', 'Result', 'Group score']}>
      {rows.map((row, i) => (
        <tr key={`${row.name}-${i}`} className={row.failed ? 'its-judge-row-failed' : undefined} title={row.reason || undefined} data-testid={`judgement-${step}-${row.name}`} data-state={row.state}>
          <td>
            {row.name}
            {row.critical && <span className="its-critical"> critical</span>}
          </td>
          {[row.canary, row.baseline].map((value, scope) => (
            <td key={scope}>
              {value}
              {row.counts && <div className="its-counts">{scope ? row.counts.baseline : row.counts.canary}</div>}
            </td>
          ))}
          <td>{row.change}</td>
          <td className={rowResultClass(row)}>{row.result}</td>
          <td>{row.group ? `${row.group} ${row.groupScore}` : row.groupScore}</td>
        </tr>
      ))}
    </Table>
  );
}

function StepAnalysis({ view }: { view: StepAnalysisView }) {
  const { step, live } = view;
  return (
    <div data-testid={`judgement-${step}`} data-state={view.state}>
      <h6 className={`its-judgement-title${view.judgement ? '' : ' its-judge-pending'}`}>
        Step {step}: <span className={resultClass(view.result)}>{view.resultText}</span>
        {view.detail}
      </h6>
      {(view.notes || []).map((note, i) => (
        <div key={i} className={`its-judgement-note${view.state === 'stopped-early' ? ' its-judge-fail' : ''}`}>
          {note}
        </div>
      ))}
      {live && (
        <div className="its-live" data-testid={`live-${step}`}>
          <div className="its-judgement-note" data-testid={`live-summary-${step}`}>
            {live.summary}
          </div>
          <div className="its-note">{live.note}</div>
          <Panels view={view} />
        </div>
      )}
      {!live && <Panels view={view} />}
      {view.rows.length > 0 && <MetricTable step={step} rows={view.rows} />}
    </div>
  );
}

/**
 * The failure's message without its "; weights restored ..." tail (the rollback line below says it).
 * Too little evidence: the failure lists the evidence gate's problems, which the step's evidence
 * panel below lists too; the box then says only which step and points there (said once).
 */
function failureText(view: AnalysisView, status: ShiftStatus | undefined): string {
  const rollback = ((status || {}).rollback || {}).message;
  let failure = view.failure || '';
  if (rollback && failure.endsWith(`; ${rollback}`)) failure = failure.slice(0, -(rollback.length + 2));
  if (view.failureReason !== INSUFFICIENT) return failure;
  const listed = view.steps.find((step) => step.evidence?.problems.length && step.evidence.problems.every((problem) => failure.includes(problem)));
  const head = /^(.*?too little evidence to judge)(?::|$)/.exec(failure)?.[1];
  return listed && head ? `${head}; step ${listed.step}'s evidence below says what is missing` : failure;
}

/** `live: false` (Orca stopped polling: the body is old) leaves out a running step's live progress. */
export function AnalysisJudgements({ status, payload, live }: { status: ShiftStatus | undefined; payload?: unknown; live?: boolean }) {
  const view = analysisView(status, payload, { live });
  if (!view) return null;
  return (
    <div data-testid="analysis-judgements">
      <h5 className="its-heading">
        Analysis
        {view.overall && (
          <>
            {': '}
            <span className={resultClass(view.overall.result)} data-testid="analysis-overall">
              {view.overall.text}
            </span>
          </>
        )}
      </h5>
      {view.failure && (
        <div className={`its-failure alert alert-${view.failureReason === INSUFFICIENT ? 'warning' : 'danger'}`} data-testid="analysis-failure">
          <strong>{FAILURE_HEADINGS[view.failureReason!] || 'Analysis stopped the shift:'}</strong> {failureText(view, status)}
        </div>
      )}
      {!view.steps.some((step) => step.judgement) && <p className="its-note">No step has been judged yet.</p>}
      {view.steps.map((step, i) => (
        <StepAnalysis key={`${step.step}-${i}`} view={step} />
      ))}
    </div>
  );
}
