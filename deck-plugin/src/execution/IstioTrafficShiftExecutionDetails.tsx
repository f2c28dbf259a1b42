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
import { analysisView } from './analysis-view';
import { AnalysisJudgements } from './AnalysisJudgements';

export { failureReasons, latestStatus } from './outcome';

function time(value?: string): string {
  if (!value) return '—';
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : timestamp(ms);
}

function WeightBars({ status }: { status: ShiftStatus }) {
  return (
    <table className="table table-condensed its-weights" aria-label="Current weights">
      <tbody>
        {status.destinations.map((destination, i) => {
          const weight = status.currentWeights?.[i] ?? 0;
          const before = status.originalWeights?.[i];
          return (
            <tr key={i} data-testid={`weight-${i}`}>
              <th className="its-weight-label">
                {destination.label || defaultLabel(destination)}
                <div className="its-weight-host">
                  {destination.host}
                  {destination.subset ? ` / ${destination.subset}` : ''}
                  {destination.port ? ` : ${destination.port}` : ''}
                </div>
              </th>
              <td className="its-bar-cell">
                <div className="its-bar" role="meter" aria-valuenow={weight} aria-valuemin={0} aria-valuemax={100} aria-label={`${destination.label} weight`}>
                  <div className={`its-bar-fill its-bar-fill-${i % 6}`} style={{ width: `${weight}%` }} />
                </div>
              </td>
              <td className="its-weight-value">{weight}%</td>
              <td className="its-weight-before">{before === undefined ? '' : `was ${before}%`}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

type StepState = 'done' | 'current' | 'stopped' | 'last-reported' | 'pending';

function stepState(step: StepRecord, status: ShiftStatus, outcome: Outcome): StepState {
  if (!step.appliedAt) return 'pending';
  if (step.index < status.currentStep || status.status === 'SUCCEEDED') return 'done';
  if (outcome.kind === 'stopped') return 'last-reported';
  return status.status === 'RUNNING' ? 'current' : 'stopped';
}

const STATE_NOTE: Record<StepState, string> = { done: '', current: ' (now)', stopped: ' (stopped here)', 'last-reported': ' (last reported)', pending: '' };

function StepTimeline({ status, outcome }: { status: ShiftStatus; outcome: Outcome }) {
  const labels = status.destinations.map((d) => d.label || defaultLabel(d));
  return (
    <table className="table table-condensed its-timeline" aria-label="Steps">
      <thead>
        <tr>
          <th>Step</th>
          <th>Weights ({labels.join(' / ')})</th>
          <th>Pause</th>
          <th>Applied</th>
          <th>Pause until</th>
        </tr>
      </thead>
      <tbody>
        {status.steps.map((step) => {
          const state = stepState(step, status, outcome);
          return (
            <tr key={step.index} className={`its-step-${state}`} data-testid={`timeline-${step.index}`}>
              <td>
                <span className={`its-step-dot its-step-dot-${state}`} /> {step.index}
                {STATE_NOTE[state]}
              </td>
              <td>{step.weights.join(' / ')}</td>
              <td>{step.pauseSeconds ? formatDuration(step.pauseSeconds) : '—'}</td>
              <td>{time(step.appliedAt)}</td>
              <td>{step.pauseSeconds ? time(step.pauseUntil) : '—'}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function describeRoute(route: ShiftStatus['route']): string {
  if (!route) return '';
  if (route.name !== undefined) return `${route.protocol.toUpperCase()} route "${route.name}"`;
  if (route.port !== undefined) return `${route.protocol.toUpperCase()} route on port ${route.port}`;
  return `${route.protocol.toUpperCase()} route #${route.index ?? 0}`;
}

const WEIGHTS_HEADING: Partial<Record<Outcome['kind'], string>> = {
  running: 'Weights now',
  stopped: 'Weights the service last reported (not current)',
};

const OUTCOME_STYLE: Partial<Record<Outcome['kind'], string>> = { stopped: 'alert-warning', rejected: 'alert-danger', lost: 'alert-warning' };

export function IstioTrafficShiftExecutionDetails(props: IExecutionDetailsSectionProps) {
  const { stage, name, current, execution } = props;
  const outcome = stageOutcome(stage, execution, timestamp);
  const { status } = outcome;
  const webhook = (stage.context?.webhook ?? {}) as { monitor?: { progressMessage?: string; percentComplete?: number } };
  // The analysis part already shows an analysis failure's message (with what happened to traffic): once is enough.
  const shownByAnalysis = analysisView(status, stage.context?.payload)?.failure;
  const reported = webhook.monitor?.progressMessage ?? status?.message;
  // The service's last message, unless it is the analysis failure the analysis box says.
  const progress = reported && reported !== shownByAnalysis ? reported : undefined;
  const percent = typeof status?.percentComplete === 'number' ? status.percentComplete : webhook.monitor?.percentComplete;
  const reasons = failureReasons(stage).filter((reason) => reason !== shownByAnalysis);
  const payload = (stage.context?.payload ?? {}) as { account?: string; namespace?: string; virtualService?: string };
  const progressLabel = outcome.kind === 'running' ? 'Progress' : outcome.kind === 'stopped' ? 'Last report' : 'Result';
  return (
    <ExecutionDetailsSection name={name} current={current}>
      <div className="istio-traffic-shift-details">
        <dl className="dl-horizontal dl-narrow">
          <dt>VirtualService</dt>
          <dd>
            {status?.namespace ?? payload.namespace}/{status?.virtualService ?? payload.virtualService}
            {status?.route ? ` — ${describeRoute(status.route)}` : ''}
          </dd>
          <dt>Account</dt>
          <dd>{status?.account ?? payload.account}</dd>
          <dt>Status</dt>
          <dd data-testid="shift-status">{outcome.kind === 'stopped' ? outcome.stageStatus : status?.status ?? outcome.stageStatus}</dd>
          {outcome.kind === 'stopped' && (
            <>
              <dt>Service said</dt>
              <dd data-testid="service-status">{status?.status} (its last status before Orca stopped polling)</dd>
            </>
          )}
          {progress && (
            <>
              <dt>{progressLabel}</dt>
              <dd data-testid="progress-message">{progress}</dd>
            </>
          )}
          {status && (
            <>
              <dt>Started</dt>
              <dd>{time(status.createdAt)}</dd>
              {status.finishedAt && (
                <>
                  <dt>Finished</dt>
                  <dd>{time(status.finishedAt)}</dd>
                </>
              )}
            </>
          )}
        </dl>
        {outcome.summary && (
          <div className={`its-outcome ${outcome.kind === 'waiting' ? 'its-no-status' : `alert ${OUTCOME_STYLE[outcome.kind] ?? 'alert-info'}`}`} data-testid="outcome">
            {outcome.summary}
            {outcome.cancelNote && <div className="its-cancel-note">{outcome.cancelNote}</div>}
          </div>
        )}
        {typeof percent === 'number' && outcome.kind !== 'stopped' && (
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
              {WEIGHTS_HEADING[outcome.kind] ?? 'Weights as the shift last wrote them'}
            </h5>
            <WeightBars status={status} />
            <h5 className="its-heading">
              Steps ({Math.min(status.currentStep, status.totalSteps)} of {status.totalSteps} applied)
            </h5>
            <StepTimeline status={status} outcome={outcome} />
            <AnalysisJudgements status={status} payload={stage.context?.payload} live={outcome.kind === 'running'} />
            {status.rollback && (
              <div className={`its-rollback its-rollback-${status.rollback.result}`} data-testid="rollback">
                <strong>{rollbackTrigger(status)}:</strong> {status.rollback.message}
              </div>
            )}
          </>
        )}
        {reasons.length > 0 ? (
          <div className="its-failure alert alert-danger" data-testid="failure-reasons">
            <strong>{outcome.kind === 'rejected' ? 'What the service answered' : 'Why it failed'}</strong>
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
