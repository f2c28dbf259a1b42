/** The status document for a shift record: what Orca polls and Deck displays. */
import { AttemptSummary, ShiftStatus, StepProgress, StepRecord, describeRunning, describeWeights, formatDuration, percentComplete, weightsOf } from '@istio-shift/core';
import { ShiftRecord } from './record';

export interface ShiftUrls {
  statusUrl: string;
  cancelUrl: string;
}

/**
 * This replica's live analysis progress of a shift's current step (the analysis runner's last look,
 * kept in memory only), with the step's 0-based index; undefined when it has none.
 */
export type ProgressLookup = (record: ShiftRecord) => { stepIndex: number; progress: StepProgress } | undefined;

/** The progress to show, with its step: only for the current step of a running shift, before its judgement. */
function liveProgress(record: ShiftRecord, lookup: ProgressLookup | undefined): { stepIndex: number; progress: StepProgress } | undefined {
  if (!lookup || record.phase !== 'RUNNING') return undefined;
  const live = lookup(record);
  if (!live || live.stepIndex !== record.currentStep - 1 || record.judgements?.[live.stepIndex]) return undefined;
  return live;
}

/** The steps as the status shows them: weights, times, each judgement once taken, and the live progress. */
function stepRecords(record: ShiftRecord, live?: { stepIndex: number; progress: StepProgress }): StepRecord[] {
  return record.spec.steps.map((step, i) => {
    const entry: StepRecord = { index: i + 1, weights: step.weights, pauseSeconds: step.pauseSeconds, ...record.stepTimes[i] };
    const verdict = record.judgements?.[i];
    if (verdict) {
      entry.analysis = verdict.judgement;
      entry.judgedAt = verdict.at;
    }
    if (live?.stepIndex === i) entry.progress = live.progress;
    return entry;
  });
}

/** The latest judgement of the shift, for the running `analysis` summary and the progress line. */
function latestJudgement(record: ShiftRecord): ShiftStatus['analysis'] {
  const judgements = record.judgements ?? [];
  for (let i = judgements.length - 1; i >= 0; i--) {
    const verdict = judgements[i];
    if (verdict) return { score: verdict.judgement.score, result: verdict.judgement.result, step: i + 1 };
  }
  return undefined;
}

/** "step 1 of 3: release 80, baseline 10, canary 10 (analysis: 4m left; last score 100/75)". */
function describeAnalysedStep(record: ShiftRecord, steps: StepRecord[], now: Date): string | undefined {
  const index = record.currentStep - 1;
  const analysis = record.spec.analysis;
  if (!analysis?.steps[index]?.analysed) return undefined;
  const step = steps[index];
  const head = `step ${step.index} of ${record.spec.steps.length}: ${describeWeights(record.spec.destinations, step.weights)}`;
  const latest = latestJudgement(record);
  const score = latest ? `; last score ${Math.round(latest.score)}/${analysis.thresholds.pass}` : '';
  const verdict = record.judgements?.[index];
  if (verdict) return `${head} (analysis passed${score})`;
  const left = step.pauseUntil ? (Date.parse(step.pauseUntil) - now.getTime()) / 1000 : 0;
  return `${head} (analysis: ${left > 0 ? `${formatDuration(Math.ceil(left))} left` : 'judging'}${score})`;
}

function message(record: ShiftRecord, steps: StepRecord[], now: Date): string {
  const { spec } = record;
  switch (record.phase) {
    case 'RUNNING':
      return describeAnalysedStep(record, steps, now) ?? describeRunning(spec.destinations, steps[record.currentStep - 1], spec.steps.length, now);
    case 'SUCCEEDED':
      return `completed ${spec.steps.length} of ${spec.steps.length} steps: ${describeWeights(spec.destinations, spec.steps[spec.steps.length - 1].weights)}`;
    case 'TERMINAL':
      return record.failure?.message ?? 'the shift failed';
    case 'CANCELED':
      return record.rollback?.message ?? 'cancelled';
  }
}

function attemptSummary(record: ShiftRecord, now: Date): AttemptSummary {
  const steps = stepRecords(record);
  const summary: AttemptSummary = { id: record.id, restartedAt: record.spec.restartedAt, status: record.phase, message: message(record, steps, now), createdAt: record.createdAt };
  if (record.finishedAt) summary.finishedAt = record.finishedAt;
  return summary;
}

/**
 * The status body. `lastPollSeen` is this replica's own memory of polls (ms), which may be newer
 * than the lazily persisted lease; `progress` looks up its live analysis progress (steps[i].progress).
 */
export function toStatus(record: ShiftRecord, urls: ShiftUrls, now: Date, attempts: ShiftRecord[] = [record], lastPollSeen?: number, progress?: ProgressLookup): ShiftStatus {
  const { spec } = record;
  const steps = stepRecords(record, liveProgress(record, progress));
  const status: ShiftStatus = {
    id: record.id,
    status: record.phase,
    message: message(record, steps, now),
    percentComplete: record.phase === 'SUCCEEDED' ? 100 : percentComplete(steps, now),
    ...urls,
    account: spec.account,
    namespace: spec.namespace,
    virtualService: spec.virtualService,
    route: spec.route,
    destinations: spec.destinations,
    currentStep: record.currentStep,
    totalSteps: spec.steps.length,
    currentWeights: record.endedWeights ?? weightsOf(spec, record.lastWritten),
    originalWeights: record.originalWeights,
    steps,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
  if (record.finishedAt) status.finishedAt = record.finishedAt;
  if (record.failure) status.failure = record.failure;
  if (record.rollback) status.rollback = record.rollback;
  const latest = latestJudgement(record);
  if (latest) status.analysis = latest;
  if (spec.executionId) status.executionId = spec.executionId;
  if (spec.stageRef) status.stageRef = spec.stageRef;
  status.restartedAt = spec.restartedAt;
  if (attempts.length > 1) status.attempts = attempts.map((attempt) => attemptSummary(attempt, now));
  status.watch = watchOf(record, lastPollSeen);
  return status;
}

function watchOf(record: ShiftRecord, lastPollSeen: number | undefined): ShiftStatus['watch'] {
  const lastPolled = Math.max(Date.parse(record.polledAt), lastPollSeen ?? 0);
  return { abandonAfterSeconds: record.spec.abandonAfterSeconds, lastPolledAt: new Date(lastPolled).toISOString() };
}

/** What a status poll of the same record object always serializes the same way. */
interface StableJson {
  statusUrl: string;
  /** The live progress it was built with: a new look's makes a new one. */
  progress: StepProgress | undefined;
  steps: StepRecord[];
  /** `{"id":…,"status":…` */
  head: string;
  /** Every field from statusUrl up to (not including) watch, without braces. */
  middle: string;
}

/**
 * Records are immutable (every transition builds a new object) and the watch cache hands out the
 * same parsed record until the VirtualService changes, so most of a poll's answer can be kept per
 * record object. Only the message, percentComplete and watch depend on the time of the poll.
 */
const stableJson = new WeakMap<ShiftRecord, StableJson>();

/** JSON.stringify(toStatus(...)), byte for byte, without rebuilding the unchanging parts per poll. */
export function statusJson(record: ShiftRecord, urls: ShiftUrls, now: Date, attempts: ShiftRecord[] = [record], lastPollSeen?: number, progress?: ProgressLookup): string {
  // Several attempts carry time-dependent messages of their own: rare (a restarted stage), built whole.
  if (attempts.length > 1 || attempts[0] !== record) return JSON.stringify(toStatus(record, urls, now, attempts, lastPollSeen, progress));
  // The runner makes a new progress object per look, so the memo is rebuilt at most once per look.
  const live = liveProgress(record, progress);
  let stable = stableJson.get(record);
  if (!stable || stable.statusUrl !== urls.statusUrl || stable.progress !== live?.progress) {
    const { id, status, message: _message, percentComplete: _percent, watch: _watch, ...rest } = toStatus(record, urls, now, attempts, lastPollSeen, () => live);
    stable = { statusUrl: urls.statusUrl, progress: live?.progress, steps: stepRecords(record), head: JSON.stringify({ id, status }).slice(0, -1), middle: JSON.stringify(rest).slice(1, -1) };
    stableJson.set(record, stable);
  }
  const percent = record.phase === 'SUCCEEDED' ? 100 : percentComplete(stable.steps, now);
  return `${stable.head},"message":${JSON.stringify(message(record, stable.steps, now))},"percentComplete":${JSON.stringify(percent)},${stable.middle},"watch":${JSON.stringify(watchOf(record, lastPollSeen))}}`;
}
