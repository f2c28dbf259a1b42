/**
 * The status document the service returns (and Orca stores as `webhook.monitor.body`), and the
 * human progress line built from it. Shared so the Deck execution view reads the same shape.
 */
import { formatDuration } from './duration';
import { NormalizedDestination } from './validate';
import { RouteSelector } from './spec';
import type { StepJudgement, StepResult } from './analysis/judge';
import type { FailureReason, RollbackResult, ShiftPhase } from './contract';

export interface StepRecord {
  /** 1-based, as people count steps. */
  index: number;
  weights: number[];
  pauseSeconds: number;
  appliedAt?: string;
  pauseUntil?: string;
  /** The step's analysis judgement once taken (steps with analysis only). */
  analysis?: StepJudgement;
  /** When the judgement was taken. */
  judgedAt?: string;
  /**
   * The running step's analysis so far, from the last look of the replica that answered; absent on
   * other replicas and after a restart (kept in that replica's memory, never written to the cluster),
   * and once the step is judged.
   */
  progress?: StepProgress;
}

/** What the analysis runner's last look at a running, not yet judged step saw (see StepRecord.progress). */
export interface StepProgress {
  /** When the look was taken. */
  at: string;
  /** Looks this replica took at the step (each over the window's start..then). */
  looks: number;
  /** Each sequentially tested metric's e-process after that look (none in fixed mode). */
  metrics: StepProgressMetric[];
  /** Totals since the window opened; null when the look did not read the request counts. */
  evidence: { requests: { canary: number; baseline: number }; errors: { canary: number; baseline: number } } | null;
}

export interface StepProgressMetric {
  name: string;
  /** The e-value after the look, and the largest at any interval so far. */
  eValue: number;
  maxEValue: number;
  /** The e-value that fails the metric (1 / its share of alpha). */
  threshold: number;
  crossed: boolean;
  /** Intervals (canary/baseline pairs) the test has seen. */
  intervals: number;
}

export interface ShiftStatus {
  id: string;
  status: ShiftPhase;
  /** One line for people, e.g. "step 2 of 3: release 34, baseline 33, canary 33 (12m left)". */
  message: string;
  percentComplete: number;
  statusUrl: string;
  cancelUrl: string;
  account: string;
  namespace: string;
  virtualService: string;
  route: RouteSelector;
  destinations: NormalizedDestination[];
  /** 1-based index of the step whose weights are live; 0 before the first step. */
  currentStep: number;
  totalSteps: number;
  /** Weights now in the route, aligned with `destinations`. */
  currentWeights: number[];
  /** Weights before the first step (0 for destinations the shift added), aligned with `destinations`. */
  originalWeights: number[];
  steps: StepRecord[];
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
  failure?: { reason: FailureReason; message: string };
  rollback?: { result: RollbackResult; message: string };
  executionId?: string;
  stageRef?: string;
  /** 0 for the first attempt of the stage, else Orca's restart time (epoch ms). */
  restartedAt?: number;
  /** Every attempt of this Orca stage (one per "Restart stage"), oldest first, this one included. */
  attempts?: AttemptSummary[];
  /** The watch lease: the shift is abandoned (traffic restored) after abandonAfterSeconds without a poll. */
  watch?: { abandonAfterSeconds: number; lastPolledAt: string };
  /** The latest analysis judgement of the shift (shifts with analysis, once one step was judged). */
  analysis?: { score: number; result: StepResult; step: number };
}

export interface AttemptSummary {
  id: string;
  restartedAt: number;
  status: ShiftPhase;
  message: string;
  createdAt: string;
  finishedAt?: string;
}

export function describeWeights(destinations: Pick<NormalizedDestination, 'label'>[], weights: number[]): string {
  return destinations.map((d, i) => `${d.label} ${weights[i] ?? 0}`).join(', ');
}

/** The progress line for a running shift at time `now`. */
export function describeRunning(
  destinations: Pick<NormalizedDestination, 'label'>[],
  step: Pick<StepRecord, 'index' | 'weights' | 'pauseUntil'>,
  totalSteps: number,
  now: Date,
): string {
  const left = step.pauseUntil ? (Date.parse(step.pauseUntil) - now.getTime()) / 1000 : 0;
  const wait = left > 0 ? ` (${formatDuration(left)} left)` : '';
  return `step ${step.index} of ${totalSteps}: ${describeWeights(destinations, step.weights)}${wait}`;
}

/**
 * Percent complete, counting each step as applying plus pausing: a step whose weights are live
 * counts half, and its pause fills the other half as it elapses.
 */
export function percentComplete(steps: StepRecord[], now: Date): number {
  if (steps.length === 0) return 0;
  let done = 0;
  for (const step of steps) {
    if (!step.appliedAt) break;
    const start = Date.parse(step.appliedAt);
    const end = step.pauseUntil ? Date.parse(step.pauseUntil) : start;
    const elapsed = end > start ? Math.min(1, Math.max(0, (now.getTime() - start) / (end - start))) : 1;
    done += 0.5 + 0.5 * elapsed;
  }
  return Math.min(100, Math.floor((done / steps.length) * 100));
}
