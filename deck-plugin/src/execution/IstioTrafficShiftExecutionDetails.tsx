/**
 * The "Istio Traffic Shift" tab of a stage's execution details. It reads what Orca's webhook tasks
 * stored in the stage context: the service's status document from the last poll
 * (`webhook.monitor.body`), else the create response (`webhook.body`), Orca's progress line
 * (`webhook.monitor.progressMessage`), and the failure (`webhook.monitor.error`, `exception`,
 * `failureMessage`, or the service's error body). Orca's own stage status decides whether that
 * status is still current (see outcome.ts).
 */
import React from 'react';
import { ExecutionDetailsSection, StageFailureMessage, timestamp } from '@spinnaker/core';
import type { IExecutionDetailsSectionProps } from '@spinnaker/core';
import { defaultLabel, formatDuration } from '@istio-shift/core';
import type { ShiftStatus, StepRecord } from '@istio-shift/core';
import { Outcome, failureReasons, rollbackTrigger, stageOutcome } from './outcome';
import { analysisFailure } from './analysis-view';
import { AnalysisJudgements } from './AnalysisJudgements';
import { Cells, Facts, Table } from './parts';

/** An ISO time as Deck shows times; the text itself when it is not one. */
function time(value?: string): string {
  const ms = Date.parse(value ?? '');
  return !value ? '—' : Number.isNaN(ms) ? value : timestamp(ms);
}

const labelOf = (destination: ShiftStatus['destinations'][number]) => destination.label || defaultLabel(destination);

function WeightBars({ status }: { status: ShiftStatus }) {
  return (
    <Table className="its-weights" label="Current weights">
      {status.destinations.map((destination, i) => {
        const weight = status.currentWeights?.[i] ?? 0;
        const before = status.originalWeights?.[i];
        return (
          <tr key={i} data-testid={`weight-${i}`}>
            <th>
              {labelOf(destination)}
              <div className="its-weight-host">
                {destination.host}
                {destination.subset ? ` / ${destination.subset}` : ''}
                {destination.port ? ` : ${destination.port}` : ''}
              </div>
            </th>
            <td className="its-bar-cell">
              <div className="its-bar" role="meter" aria-valuenow={weight} aria-valuemin={0} aria-valuemax={100} aria-label={`${labelOf(destination)} weight`}>
                <div className={`its-bar-fill its-bar-fill-${i % 6}`} style={{ width: `${weight}%` }} />
              </div>
            </td>
            <td className="its-weight-value">{weight}%</td>
            <td className="its-weight-before">{before === undefined ? '' : `was ${before}%`}</td>
          </tr>
        );
      })}
    </Table>
  );
}

type StepState = 'done' | 'current' | 'stopped' | 'last-reported' | 'pending';

function stepState(step: StepRecord, status: ShiftStatus, outcome: Outcome): StepState {
  if (!step.appliedAt) return 'pending';
  if (step.index < status.currentStep || status.status === 'SUCCEEDED') return 'done';
  if (outcome.kind === 'stopped') return 'last-reported';
  return status.status === 'RUNNING' ? 'current' : 'stopped';
}

const STATE_NOTE: Partial<Record<StepState, string>> = { current: ' (now)', stopped: ' (stopped here)', 'last-reported': ' (last reported)' };

function StepTimeline({ status, outcome }: { status: ShiftStatus; outcome: Outcome }) {
  return (
    <Table label="Steps" head={['Step', `Weights (${status.destinations.map(labelOf).join(' / ')})`, 'Pause', 'Applied', 'Pause until']}>
      {status.steps.map((step) => {
        const state = stepState(step, status, outcome);
        const paused = !!step.pauseSeconds;
        return (
          <tr key={step.index} className={`its-step-${state}`} data-testid={`timeline-${step.index}`}>
            <Cells
              cells={[
                <>
                  <span className={`its-step-dot its-step-dot-${state}`} /> {step.index}
                  {STATE_NOTE[state]}
                </>,
                step.weights.join(' / '),
                paused ? formatDuration(step.pauseSeconds) : '—',
                time(step.appliedAt),
                paused ? time(step.pauseUntil) : '—',
              ]}
            />
          </tr>
        );
      })}
    </Table>
  );
}

/** 'HTTP route "primary"', "HTTP route on port 8080", "TCP route #0": how the status selected its route. */
const describeRoute = (route: ShiftStatus['route']) =>
  `${route.protocol.toUpperCase()} route ${route.name !== undefined ? `"${route.name}"` : route.port !== undefined ? `on port ${route.port}` : `#${route.index ?? 0}`}`;

const WEIGHTS_HEADING: Partial<Record<Outcome['kind'], string>> = {
  running: 'Weights now',
  stopped: 'Weights the service last reported (not current)',
};

const OUTCOME_STYLE: Partial<Record<Outcome['kind'], string>> = { stopped: 'alert-warning', rejected: 'alert-danger', lost: 'alert-warning' };

export function IstioTrafficShiftExecutionDetails(props: IExecutionDetailsSectionProps) {
  const { stage, name, current, execution } = props;
  const outcome = stageOutcome(stage, execution, timestamp);
  const { status, kind } = outcome;
  const context = stage.context || {};
  const monitor: { progressMessage?: string; percentComplete?: number } = (context.webhook || {}).monitor || {};
  // The analysis part already shows an analysis failure's message (with what happened to traffic): once is enough.
  const shownByAnalysis = (analysisFailure(status) || {}).message;
  const reported = monitor.progressMessage ?? status?.message;
  const percent = typeof status?.percentComplete === 'number' ? status.percentComplete : monitor.percentComplete;
  const reasons = failureReasons(stage).filter((reason) => reason !== shownByAnalysis);
  // Where the shift is: the service's status, else the stage's payload (no status yet).
  const where = { ...context.payload, ...status } as { account?: string; namespace?: string; virtualService?: string; route?: ShiftStatus['route'] };
  return (
    <ExecutionDetailsSection name={name} current={current}>
      <div className="istio-traffic-shift-details">
        <Facts
          className="dl-horizontal dl-narrow"
          lines={[
            ['VirtualService', `${where.namespace || ''}/${where.virtualService || ''}${status?.route ? ` — ${describeRoute(status.route)}` : ''}`],
            ['Account', where.account],
            ['Status', kind === 'stopped' ? outcome.stageStatus : status?.status ?? outcome.stageStatus, 'shift-status'],
            kind === 'stopped' && ['Service said', `${status?.status} (its last status before Orca stopped polling)`, 'service-status'],
            // The service's last message, unless it is the analysis failure the analysis box says.
            !!reported && reported !== shownByAnalysis && [kind === 'running' ? 'Progress' : kind === 'stopped' ? 'Last report' : 'Result', reported, 'progress-message'],
            !!status && ['Started', time(status.createdAt)],
            !!status?.finishedAt && ['Finished', time(status.finishedAt)],
          ]}
        />
        {outcome.summary && (
          <div className={`its-outcome${kind === 'waiting' ? '' : ` alert ${OUTCOME_STYLE[kind] || 'alert-info'}`}`} data-testid="outcome">
            {outcome.summary}
            {outcome.cancelNote && <div className="its-cancel-note">{outcome.cancelNote}</div>}
          </div>
        )}
        {typeof percent === 'number' && kind !== 'stopped' && (
          <div className="its-progress">
            <div className="progress">
              <div className="progress-bar" role="progressbar" aria-valuenow={percent} aria-valuemin={0} aria-valuemax={100} style={{ width: `${percent}%` }}>
                {percent}%
              </div>
            </div>
          </div>
        )}
        {status && (
          <>
            <h5 className="its-heading" data-testid="weights-heading">
              {WEIGHTS_HEADING[kind] || 'Weights as the shift last wrote them'}
            </h5>
            <WeightBars status={status} />
            <h5 className="its-heading">
              Steps ({Math.min(status.currentStep, status.totalSteps)} of {status.totalSteps} applied)
            </h5>
            <StepTimeline status={status} outcome={outcome} />
            <AnalysisJudgements status={status} payload={context.payload} live={kind === 'running'} />
            {status.rollback && (
              <div data-testid="rollback">
                <strong>{rollbackTrigger(status)}:</strong> {status.rollback.message}
              </div>
            )}
          </>
        )}
        {reasons.length > 0 ? (
          <div className="its-failure alert alert-danger" data-testid="failure-reasons">
            <strong>{kind === 'rejected' ? 'What the service answered' : 'Why it failed'}</strong>
            <ul>
              {reasons.map((reason, i) => (
                <li key={i}>{reason}</li>
              ))}
            </ul>
          </div>
        ) : (
          // Deck's own failure text (from Orca's exception) only when there is nothing more specific above: after an
          // analysis failure it would be core's empty "Exception ( Monitor Webhook ) No reason provided." box.
          !shownByAnalysis && <StageFailureMessage stage={stage} message={stage.failureMessage} />
        )}
      </div>
    </ExecutionDetailsSection>
  );
}

/** The section key; the tab reads "Istio Traffic Shift" (Deck's robotToHuman of the title). */
IstioTrafficShiftExecutionDetails.title = 'istioTrafficShift';
