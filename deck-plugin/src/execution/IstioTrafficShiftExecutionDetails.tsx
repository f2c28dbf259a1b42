/**
 * The "Istio Traffic Shift" tab of a stage's execution details. It reads what Orca's webhook tasks
 * stored in the stage context: the service's status document from the last poll
 * (`webhook.monitor.body`), else the create response (`webhook.body`), Orca's progress line
 * (`webhook.monitor.progressMessage`), and the failure (`webhook.monitor.error`, `exception`,
 * `failureMessage`, or the service's error body).
 */
import React from 'react';
import { ExecutionDetailsSection, StageFailureMessage, timestamp } from '@spinnaker/core';
import type { IExecutionDetailsSectionProps, IExecutionStage } from '@spinnaker/core';
import { defaultLabel, formatDuration } from '@istio-shift/core';
import type { ShiftStatus, StepRecord } from '@istio-shift/core';
import { AnalysisJudgements } from './AnalysisJudgements';

interface WebhookContext {
  statusCodeValue?: number;
  body?: unknown;
  error?: string | null;
  monitor?: {
    body?: unknown;
    progressMessage?: string;
    percentComplete?: number;
    error?: string | null;
    pastStatusCodes?: number[];
  };
}

interface ServiceError {
  error: { status?: number; code?: string; message?: string; problems?: Array<{ field: string; message: string }> };
}

function isStatus(body: unknown): body is ShiftStatus {
  return !!body && typeof body === 'object' && Array.isArray((body as ShiftStatus).destinations) && typeof (body as ShiftStatus).status === 'string';
}

function isServiceError(body: unknown): body is ServiceError {
  return !!body && typeof body === 'object' && !!(body as ServiceError).error && typeof (body as ServiceError).error === 'object';
}

/** The latest status document Orca recorded, and where it came from. */
export function latestStatus(stage: Pick<IExecutionStage, 'context'>): ShiftStatus | undefined {
  const webhook = (stage.context?.webhook ?? {}) as WebhookContext;
  if (isStatus(webhook.monitor?.body)) return webhook.monitor!.body as ShiftStatus;
  if (isStatus(webhook.body)) return webhook.body as ShiftStatus;
  return undefined;
}

/** Every failure reason Orca or the service recorded, most specific first, without repeats. */
export function failureReasons(stage: IExecutionStage): string[] {
  const context = stage.context ?? {};
  const webhook = (context.webhook ?? {}) as WebhookContext;
  const status = latestStatus(stage);
  const reasons: string[] = [];
  if (status?.failure) reasons.push(status.failure.message);
  if (status?.rollback && status.rollback.result !== 'restored') reasons.push(status.rollback.message);
  for (const body of [webhook.monitor?.body, webhook.body]) {
    if (isServiceError(body)) {
      const { error } = body;
      if (error.problems?.length) reasons.push(...error.problems.map((p) => p.message));
      else if (error.message) reasons.push(error.message);
    }
  }
  if (webhook.monitor?.error) reasons.push(String(webhook.monitor.error));
  if (webhook.error) reasons.push(String(webhook.error));
  const exception = context.exception as { details?: { error?: string; errors?: string[] } } | undefined;
  if (exception?.details?.errors?.length) reasons.push(...exception.details.errors);
  else if (exception?.details?.error) reasons.push(exception.details.error);
  return reasons.filter((reason, i) => reason && reasons.indexOf(reason) === i);
}

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

type StepState = 'done' | 'current' | 'stopped' | 'pending';

function stepState(step: StepRecord, status: ShiftStatus): StepState {
  if (!step.appliedAt) return 'pending';
  if (step.index < status.currentStep || status.status === 'SUCCEEDED') return 'done';
  return status.status === 'RUNNING' ? 'current' : 'stopped';
}

const STATE_NOTE: Record<StepState, string> = { done: '', current: ' (now)', stopped: ' (stopped here)', pending: '' };

function StepTimeline({ status }: { status: ShiftStatus }) {
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
          const state = stepState(step, status);
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

export function IstioTrafficShiftExecutionDetails(props: IExecutionDetailsSectionProps) {
  const { stage, name, current } = props;
  const webhook = (stage.context?.webhook ?? {}) as WebhookContext;
  const status = latestStatus(stage);
  const progress = webhook.monitor?.progressMessage ?? status?.message;
  const running = (status?.status ?? stage.status) === 'RUNNING';
  const percent = typeof status?.percentComplete === 'number' ? status.percentComplete : webhook.monitor?.percentComplete;
  const reasons = failureReasons(stage);
  const payload = (stage.context?.payload ?? {}) as { account?: string; namespace?: string; virtualService?: string };
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
          <dd data-testid="shift-status">{status?.status ?? stage.status}</dd>
          {progress && (
            <>
              <dt>{running ? 'Progress' : 'Result'}</dt>
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
        {typeof percent === 'number' && (
          <div className="its-progress">
            <div className="progress">
              <div className="progress-bar" role="progressbar" aria-valuenow={percent} aria-valuemin={0} aria-valuemax={100} style={{ width: `${percent}%` }}>
                {percent}%
              </div>
            </div>
          </div>
        )}
        {status ? (
          <>
            <h5 className="its-heading">{running ? 'Weights now' : 'Weights as the shift last wrote them'}</h5>
            <WeightBars status={status} />
            <h5 className="its-heading">
              Steps ({Math.min(status.currentStep, status.totalSteps)} of {status.totalSteps} applied)
            </h5>
            <StepTimeline status={status} />
            <AnalysisJudgements status={status} />
            {status.rollback && (
              <div className={`its-rollback its-rollback-${status.rollback.result}`} data-testid="rollback">
                <strong>On cancel:</strong> {status.rollback.message}
              </div>
            )}
          </>
        ) : (
          <p className="its-no-status">The service has not reported a status for this stage yet.</p>
        )}
        {reasons.length > 0 && (
          <div className="its-failure alert alert-danger" data-testid="failure-reasons">
            <strong>Why it failed</strong>
            <ul>
              {reasons.map((reason, i) => (
                <li key={i}>{reason}</li>
              ))}
            </ul>
          </div>
        )}
        <StageFailureMessage stage={stage} message={stage.failureMessage} />
      </div>
    </ExecutionDetailsSection>
  );
}

/** The section key; the tab reads "Istio Traffic Shift" (Deck's robotToHuman of the title). */
IstioTrafficShiftExecutionDetails.title = 'istioTrafficShift';
