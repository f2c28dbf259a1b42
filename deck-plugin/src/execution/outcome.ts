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
import { ABANDON_AFTER_DEFAULT, describeWeights, formatDuration, parseDurationSeconds } from '@istio-shift/core';
import type { FailureReason, Problem, ShiftStatus } from '@istio-shift/core';
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

const webhookOf = (stage: StageRecord) => ((stage.context || {}).webhook || {}) as WebhookContext;

function isStatus(body: unknown): body is ShiftStatus {
  return !!body && typeof body === 'object' && Array.isArray((body as ShiftStatus).destinations) && typeof (body as ShiftStatus).status === 'string';
}

function errorOf(body: unknown): ServiceError | undefined {
  const error = body && typeof body === 'object' ? (body as { error?: unknown }).error : undefined;
  return error && typeof error === 'object' ? (error as ServiceError) : undefined;
}

/** The latest status document Orca recorded: the last poll's, else the create response's. */
function latestStatus(stage: StageRecord): ShiftStatus | undefined {
  const webhook = webhookOf(stage);
  if (isStatus(webhook.monitor?.body)) return webhook.monitor!.body as ShiftStatus;
  if (isStatus(webhook.body)) return webhook.body as ShiftStatus;
  return undefined;
}

/** The service's error answer to the create call, with the HTTP status Orca recorded. */
function createError(stage: StageRecord): ServiceError | undefined {
  const webhook = webhookOf(stage);
  const error = errorOf(webhook.body);
  return error ? { ...error, status: error.status ?? webhook.statusCodeValue } : undefined;
}

/**
 * Every failure reason, most specific first, each once. When the service answered the create with
 * an error, that answer is the reason: Orca's own texts about the same HTTP status are left out.
 */
export function failureReasons(stage: StageRecord): string[] {
  const webhook = webhookOf(stage);
  const monitor = webhook.monitor || {};
  const { failure, rollback } = latestStatus(stage) || {};
  const reasons: string[] = [];
  if (failure) reasons.push(failure.message);
  if (rollback && rollback.result !== 'restored') reasons.push(rollback.message);
  for (const error of [errorOf(monitor.body) || {}, errorOf(webhook.body) || {}]) {
    // The form's words (steps counted from 1, "Step 2 weights ..."), as the editor shows the same problems.
    if (error.problems?.length) reasons.push(...error.problems.map((p) => problemText(p as Problem)));
    else if (error.message) reasons.push(error.message);
  }
  const answered = createError(stage)?.status;
  const restatesAnswer = (text: string) => answered !== undefined && new RegExp(`\\b${answered}\\b`).test(text);
  if (monitor.error) reasons.push(String(monitor.error));
  if (webhook.error && !restatesAnswer(String(webhook.error))) reasons.push(String(webhook.error));
  const details = ((stage.context || {}).exception as { details?: { error?: string; errors?: string[] } } | undefined)?.details || {};
  const orcaErrors = details.errors?.length ? details.errors : details.error ? [details.error] : [];
  reasons.push(...orcaErrors.filter((text) => !restatesAnswer(text)));
  return reasons.filter((reason, i) => reason && reasons.indexOf(reason) === i);
}

function abandonSeconds(payload: Record<string, unknown>): number {
  const value = payload.abandonAfter;
  return (typeof value === 'string' || typeof value === 'number' ? parseDurationSeconds(value) : undefined) ?? (parseDurationSeconds(ABANDON_AFTER_DEFAULT) as number);
}

/** What Orca did to the stage, by its status: "Orca stopped this stage (CANCELED)". */
const ORCA_DID: Record<string, string> = { CANCELED: 'stopped', TERMINAL: 'ended', STOPPED: 'ended' };
const whatOrcaDid = (stageStatus: string) => `Orca ${ORCA_DID[stageStatus] ? `${ORCA_DID[stageStatus]} this stage` : 'no longer polls this stage'} (${stageStatus})`;

/**
 * The summary of a stage Orca ended while the shift may still run ("stopped": with the service's last
 * status; "lost": without any): what Orca did, what the service does, and by when.
 */
function endedSummary(stage: StageRecord, formatTime: (ms: number) => string, status?: ShiftStatus): string {
  const payload = ((stage.context || {}).payload || {}) as Record<string, unknown>;
  const hold = payload.onCancel === 'hold';
  const seconds = abandonSeconds(payload);
  // Orca's last poll came before the stage ended, so the end time bounds the deadline.
  const by = typeof stage.endTime === 'number' ? ` (by ${formatTime(stage.endTime + seconds * 1000)})` : '';
  const timing = `when it receives the cancel call, or at the latest ${formatDuration(seconds)} after the last status poll${by}`;
  const orca = whatOrcaDid(stage.status ?? '');
  if (!status) return `${orca} without a status from the service. If the service did start the shift, it stops it and ${hold ? 'holds the weights' : 'restores the weights from before the shift'} ${timing}.`;
  const action = hold
    ? `the service stops the shift and holds the weights it has then (last reported: ${describeWeights(status.destinations, status.currentWeights)})`
    : `the service restores the weights from before the shift (${describeWeights(status.destinations, status.originalWeights)})`;
  return `${orca}; ${action} ${timing}. The weights below are the last ones the service reported, not the current ones.`;
}

function rejectedSummary(error: ServiceError): string {
  const code = [error.status !== undefined && `HTTP ${error.status}`, error.code].filter(Boolean).join(' ');
  const refused = error.status !== undefined && error.status >= 400 && error.status < 500;
  return `The service ${refused ? 'refused to' : 'could not'} start the shift${code ? ` (${code})` : ''}${refused ? ': it changed no traffic. Fix the stage and run the pipeline again.' : '.'}`;
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
    return ended ? { ...base, kind: 'stopped', summary: endedSummary(stage, formatTime, status) } : { ...base, kind: 'running' };
  }
  const error = createError(stage);
  if (!ended) return { ...base, kind: 'waiting', summary: 'The service has not reported a status for this stage yet.' };
  return error ? { ...base, kind: 'rejected', summary: rejectedSummary(error) } : { ...base, kind: 'lost', summary: endedSummary(stage, formatTime) };
}

/** The label of the rollback line by what made the service roll back (or hold): analysis, abandonment, else Orca's cancel call. */
const ROLLBACK_TRIGGERS: Partial<Record<FailureReason, string>> = {
  ANALYSIS_FAILED: 'On analysis failure',
  ANALYSIS_UNAVAILABLE: 'When analysis could not run',
  ANALYSIS_INSUFFICIENT_DATA: 'With too little evidence to judge',
  ABANDONED: 'On abandonment',
};

/**
 * What made the service roll back (or hold) the weights, for the label of its rollback line: a
 * failed or impossible analysis, no status poll for abandonAfter, else Orca's cancel call.
 */
export const rollbackTrigger = (status: ShiftStatus): string => ROLLBACK_TRIGGERS[status.failure?.reason as FailureReason] ?? 'On cancel';
