/**
 * What the execution tab says about a stage, from what Orca stored (no React, no Deck). The
 * plugin cannot ask the service, so it says what is known (Orca's stage status, the service's last
 * status document, the failure texts) and what is expected from the service's rules:
 *
 * - Orca stops polling once the stage ends (cancelled, failed, timed out), so the last stored status
 *   can still say RUNNING with weights that are no longer current.
 * - On Orca's cancel call the service restores the weights from before the shift
 *   (`onCancel: rollback`, the default) or holds them (`hold`); without a status poll for
 *   `abandonAfter` (default 2m) it treats the shift as abandoned and does the same.
 */
import { ABANDON_AFTER_DEFAULT, FAILURE_REASON, describeWeights, formatDuration, parseDurationSeconds } from '@istio-shift/core';
import type { Problem, ShiftStatus } from '@istio-shift/core';
import { problemText } from '../formLanguage';

export interface StageRecord {
  status?: string;
  endTime?: number;
  context?: Record<string, unknown>;
}

export interface ExecutionRecord {
  canceledBy?: string;
  cancellationReason?: string;
}

interface WebhookContext {
  statusCodeValue?: number;
  body?: unknown;
  error?: string | null;
  monitor?: { body?: unknown; progressMessage?: string; percentComplete?: number; error?: string | null };
}

export interface ServiceError {
  status?: number;
  code?: string;
  message?: string;
  problems?: Array<{ field: string; message: string; code?: Problem['code']; params?: Problem['params'] }>;
}

/**
 * - running: Orca still polls; the last status is current.
 * - finished: the service reported the end itself (SUCCEEDED, TERMINAL, CANCELED).
 * - stopped: Orca ended the stage while the last status said RUNNING.
 * - rejected: the service answered the create with an error; there is no shift.
 * - lost: Orca ended the stage without any answer from the service.
 * - waiting: no status yet and Orca is still working on the stage.
 */
export type OutcomeKind = 'running' | 'finished' | 'stopped' | 'rejected' | 'lost' | 'waiting';

export interface Outcome {
  kind: OutcomeKind;
  /** Orca's status of the stage (CANCELED, TERMINAL, SUCCEEDED, RUNNING, ...). */
  stageStatus: string;
  status?: ShiftStatus;
  /** What Orca did and what the service did or will do to traffic; absent while all is as reported. */
  summary?: string;
  /** Who cancelled the execution and why, when Orca recorded it. */
  cancelNote?: string;
}

/** Orca statuses after which it runs none of the stage's tasks again, so it polls no more. */
const ENDED = ['SUCCEEDED', 'TERMINAL', 'CANCELED', 'STOPPED', 'SKIPPED', 'FAILED_CONTINUE'];

const webhookOf = (stage: StageRecord) => (stage.context?.webhook ?? {}) as WebhookContext;

function isStatus(body: unknown): body is ShiftStatus {
  return !!body && typeof body === 'object' && Array.isArray((body as ShiftStatus).destinations) && typeof (body as ShiftStatus).status === 'string';
}

function errorOf(body: unknown): ServiceError | undefined {
  const error = body && typeof body === 'object' ? (body as { error?: unknown }).error : undefined;
  return error && typeof error === 'object' ? (error as ServiceError) : undefined;
}

/** The latest status document Orca recorded: the last poll's, else the create response's. */
export function latestStatus(stage: StageRecord): ShiftStatus | undefined {
  const webhook = webhookOf(stage);
  if (isStatus(webhook.monitor?.body)) return webhook.monitor!.body as ShiftStatus;
  if (isStatus(webhook.body)) return webhook.body as ShiftStatus;
  return undefined;
}

/** The service's error answer to the create call, with the HTTP status Orca recorded. */
export function createError(stage: StageRecord): ServiceError | undefined {
  const webhook = webhookOf(stage);
  const error = errorOf(webhook.body);
  return error ? { ...error, status: error.status ?? webhook.statusCodeValue } : undefined;
}

/**
 * Every failure reason, most specific first, each once. When the service answered the create with
 * an error, that answer is the reason: Orca's own texts about the same HTTP status are left out.
 */
export function failureReasons(stage: StageRecord): string[] {
  const context = stage.context ?? {};
  const webhook = webhookOf(stage);
  const status = latestStatus(stage);
  const reasons: string[] = [];
  if (status?.failure) reasons.push(status.failure.message);
  if (status?.rollback && status.rollback.result !== 'restored') reasons.push(status.rollback.message);
  for (const error of [errorOf(webhook.monitor?.body), errorOf(webhook.body)]) {
    // The form's words (steps counted from 1, "Step 2 weights ..."), as the editor shows the same problems.
    if (error?.problems?.length) reasons.push(...error.problems.map((p) => problemText(p as Problem)));
    else if (error?.message) reasons.push(error.message);
  }
  const answered = createError(stage)?.status;
  const restatesAnswer = (text: string) => answered !== undefined && new RegExp(`\\b${answered}\\b`).test(text);
  if (webhook.monitor?.error) reasons.push(String(webhook.monitor.error));
  if (webhook.error && !restatesAnswer(String(webhook.error))) reasons.push(String(webhook.error));
  const exception = context.exception as { details?: { error?: string; errors?: string[] } } | undefined;
  const orcaErrors = exception?.details?.errors?.length ? exception.details.errors : exception?.details?.error ? [exception.details.error] : [];
  reasons.push(...orcaErrors.filter((text) => !restatesAnswer(text)));
  return reasons.filter((reason, i) => reason && reasons.indexOf(reason) === i);
}

function abandonSeconds(payload: Record<string, unknown>): number {
  const fallback = parseDurationSeconds(ABANDON_AFTER_DEFAULT) as number;
  const value = payload.abandonAfter;
  if (typeof value !== 'string' && typeof value !== 'number') return fallback;
  return parseDurationSeconds(value) ?? fallback;
}

function whatOrcaDid(stageStatus: string): string {
  if (stageStatus === 'CANCELED') return `Orca stopped this stage (${stageStatus})`;
  if (stageStatus === 'TERMINAL' || stageStatus === 'STOPPED') return `Orca ended this stage (${stageStatus})`;
  return `Orca no longer polls this stage (${stageStatus})`;
}

/** "when it receives the cancel call, or at the latest 2m after the last status poll (by …)". */
function when(stage: StageRecord, seconds: number, formatTime: (ms: number) => string): string {
  // Orca's last poll came before the stage ended, so the end time bounds the deadline.
  const by = typeof stage.endTime === 'number' ? ` (by ${formatTime(stage.endTime + seconds * 1000)})` : '';
  return `when it receives the cancel call, or at the latest ${formatDuration(seconds)} after the last status poll${by}`;
}

function stoppedSummary(stage: StageRecord, status: ShiftStatus, formatTime: (ms: number) => string): string {
  const payload = (stage.context?.payload ?? {}) as Record<string, unknown>;
  const timing = when(stage, abandonSeconds(payload), formatTime);
  const action =
    payload.onCancel === 'hold'
      ? `the service stops the shift and holds the weights it has then (last reported: ${describeWeights(status.destinations, status.currentWeights)})`
      : `the service restores the weights from before the shift (${describeWeights(status.destinations, status.originalWeights)})`;
  return `${whatOrcaDid(stage.status ?? '')}; ${action} ${timing}. The weights below are the last ones the service reported, not the current ones.`;
}

function lostSummary(stage: StageRecord, formatTime: (ms: number) => string): string {
  const payload = (stage.context?.payload ?? {}) as Record<string, unknown>;
  const action = payload.onCancel === 'hold' ? 'stops it and holds the weights' : 'stops it and restores the weights from before the shift';
  return `${whatOrcaDid(stage.status ?? '')} without a status from the service. If the service did start the shift, it ${action} ${when(stage, abandonSeconds(payload), formatTime)}.`;
}

function rejectedSummary(error: ServiceError): string {
  const code = [error.status !== undefined ? `HTTP ${error.status}` : '', error.code ?? ''].filter(Boolean).join(' ');
  if (error.status !== undefined && error.status >= 400 && error.status < 500) {
    return `The service refused to start the shift${code ? ` (${code})` : ''}: it changed no traffic. Fix the stage and run the pipeline again.`;
  }
  return `The service could not start the shift${code ? ` (${code})` : ''}.`;
}

function cancelNote(execution?: ExecutionRecord): string | undefined {
  if (!execution?.canceledBy && !execution?.cancellationReason) return undefined;
  const by = execution.canceledBy ? `Cancelled by ${execution.canceledBy}` : 'Cancelled';
  return execution.cancellationReason ? `${by}: ${execution.cancellationReason}` : by;
}

export function stageOutcome(stage: StageRecord, execution?: ExecutionRecord, formatTime: (ms: number) => string = (ms) => new Date(ms).toISOString()): Outcome {
  const stageStatus = stage.status ?? 'RUNNING';
  const ended = ENDED.includes(stageStatus);
  const status = latestStatus(stage);
  const note = stageStatus === 'CANCELED' ? cancelNote(execution) : undefined;
  const base = { stageStatus, status, ...(note ? { cancelNote: note } : {}) };
  if (status) {
    if (status.status !== 'RUNNING') return { ...base, kind: 'finished' };
    if (!ended) return { ...base, kind: 'running' };
    return { ...base, kind: 'stopped', summary: stoppedSummary(stage, status, formatTime) };
  }
  const error = createError(stage);
  if (error && ended) return { ...base, kind: 'rejected', summary: rejectedSummary(error) };
  if (ended) return { ...base, kind: 'lost', summary: lostSummary(stage, formatTime) };
  return { ...base, kind: 'waiting', summary: 'The service has not reported a status for this stage yet.' };
}

/**
 * What made the service roll back (or hold) the weights, for the label of its rollback line: a
 * failed or impossible analysis, no status poll for abandonAfter, else Orca's cancel call.
 */
export function rollbackTrigger(status: ShiftStatus): string {
  switch (status.failure?.reason) {
    case FAILURE_REASON.ANALYSIS_FAILED:
      return 'On analysis failure';
    case FAILURE_REASON.ANALYSIS_UNAVAILABLE:
      return 'When analysis could not run';
    case FAILURE_REASON.ANALYSIS_INSUFFICIENT_DATA:
      return 'With too little evidence to judge';
    case FAILURE_REASON.ABANDONED:
      return 'On abandonment';
    default:
      return 'On cancel';
  }
}
