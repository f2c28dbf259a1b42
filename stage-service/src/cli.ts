#!/usr/bin/env node
/**
 * The same engine as a command, for an Orca Run Job (Manifest) container:
 *
 *   istio-traffic-shift run (--spec shift.json | --spec-env NAME) [--kubeconfig FILE] [--context NAME | --in-cluster]
 *
 * `--spec-env NAME` reads the spec JSON from an environment variable: a Job's container has no
 * file to read, and Orca's preconfigured job maps its `spec` parameter onto that variable.
 *
 * It starts the shift (or resumes the stage's running attempt, or starts a new attempt after
 * Orca's "Restart stage": see startOrResume), advances it until it ends, prints progress, and
 * ends with a SPINNAKER_CONFIG_JSON line that Orca captures as the stage's outputs. SIGTERM (the Job being deleted) cancels the shift, which rolls traffic back.
 * Like the service, it records each step, verdict, completion and rollback as a Kubernetes Event on
 * the VirtualService (docs/events.md); before exiting it waits at most 1 s for Events still queued.
 * Exit code: 0 SUCCEEDED, 1 TERMINAL or CANCELED, 2 bad usage or spec.
 */
import { readFileSync } from 'fs';
import * as k8s from '@kubernetes/client-node';
import { NormalizedShiftSpec, describeProblems, validateShiftSpec } from '@istio-shift/core';
import { ShiftEngine, ShiftRef } from './engine/engine';
import { ShiftError } from './engine/errors';
import { ShiftRecord } from './engine/record';
import { toStatus } from './engine/view';
import { ClusterVirtualServiceApi } from './kube/cluster-api';
import { flushEventsWithin } from './kube/event-flush';
import { ClusterEventWriter } from './kube/event-writers';
import { EventRecorder } from './kube/events';
import { Logger } from './logger';
import { UsageError, parseFlags } from './cli-flags';

interface CliOptions {
  spec?: string;
  specEnv?: string;
  kubeconfig?: string;
  context?: string;
  inCluster: boolean;
}

const RUN_USAGE = 'usage: istio-traffic-shift run (--spec FILE | --spec-env NAME) [--kubeconfig FILE] [--context NAME | --in-cluster]';

function parseArgs(argv: string[]): CliOptions {
  const [command, ...rest] = argv;
  if (command !== 'run') throw new UsageError(RUN_USAGE);
  const flags = parseFlags(rest, { spec: 'value', 'spec-env': 'value', kubeconfig: 'value', context: 'value', 'in-cluster': 'switch' }, RUN_USAGE);
  const options: CliOptions = { inCluster: flags['in-cluster'] === true };
  if (typeof flags.spec === 'string') options.spec = flags.spec;
  if (typeof flags['spec-env'] === 'string') options.specEnv = flags['spec-env'];
  if (typeof flags.kubeconfig === 'string') options.kubeconfig = flags.kubeconfig;
  if (typeof flags.context === 'string') options.context = flags.context;
  if (!options.spec === !options.specEnv) {
    throw new UsageError('give exactly one of --spec FILE (a JSON shift spec; "-" reads standard input) or --spec-env NAME (an environment variable holding it)');
  }
  return options;
}

function readSpec(options: CliOptions): string {
  if (options.spec) return readFileSync(options.spec === '-' ? 0 : options.spec, 'utf8');
  const text = process.env[options.specEnv as string];
  if (!text) throw new UsageError(`environment variable ${options.specEnv} (from --spec-env) is empty or not set: set it to the shift spec JSON`);
  return text;
}

function kubeConfig(options: CliOptions): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  if (options.inCluster) kc.loadFromCluster();
  else if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
  else kc.loadFromDefault();
  if (options.context) kc.setCurrentContext(options.context);
  return kc;
}

/** The Job's Role, named when Event writes are forbidden. */
const RUN_JOB_RBAC = 'stage-service/deploy/run-job/rbac.yaml';

/** Log lines as the CLI's other output: plain text on its output, which the Job's log keeps. */
function cliLogger(out: (line: string) => void): Logger {
  const line = (label: string) => (message: string, fields: Record<string, unknown> = {}) => {
    const details = Object.entries(fields).filter(([, value]) => value !== undefined).map(([key, value]) => `${key}: ${String(value)}`);
    out(`${label}: ${message}${details.length ? ` (${details.join('; ')})` : ''}`);
  };
  return { debug: () => undefined, info: line('info'), warn: line('warning'), error: line('error') };
}

/** How long the CLI waits after a failed engine call before it tries again. */
const RETRY_AFTER_ERROR_MS = 1000;

function delayUntilNextCheck(record: ShiftRecord): number {
  const pauseUntil = record.stepTimes[record.currentStep - 1]?.pauseUntil;
  const wait = pauseUntil ? Date.parse(pauseUntil) - Date.now() : 0;
  // Wake at the end of the pause, but at least every 5 s to notice other writers early.
  return Math.min(5000, Math.max(0, wait));
}

export async function run(argv: string[], out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  let options: CliOptions;
  let specText: string;
  try {
    options = parseArgs(argv);
    specText = readSpec(options);
  } catch (error) {
    out(`error: ${(error as Error).message}`);
    return 2;
  }
  let input: unknown;
  try {
    input = JSON.parse(specText);
  } catch (error) {
    out(`error: ${options.spec ?? `$${options.specEnv}`} is not valid JSON: ${(error as Error).message}`);
    return 2;
  }
  const result = validateShiftSpec(input);
  if (!result.ok) {
    out(`error: the shift spec is invalid: ${describeProblems(result.problems)}`);
    return 2;
  }
  const spec = result.spec;
  const api = new ClusterVirtualServiceApi(kubeConfig(options));
  // The service's recorder (client-go's correlation and rate limit), writing with the Job's own
  // credentials. It never fails or delays the shift: a Role without events is one warning line.
  const recorder = new EventRecorder({ writer: new ClusterEventWriter(() => api.client()), log: cliLogger(out), account: spec.account, rbacFile: RUN_JOB_RBAC });
  const engine = new ShiftEngine({ apiFor: () => api, eventsFor: () => recorder });
  try {
    return await runToTheEnd(engine, spec, out);
  } finally {
    // The last writes' Events (Completed, RolledBack) are still queued: up to 1 s for them, never
    // more, so an unreachable API server cannot hold the Job (and Orca's stage) open.
    await flushEventsWithin([recorder]);
  }
}

const refOf = (record: ShiftRecord): ShiftRef => ({ account: record.spec.account, namespace: record.spec.namespace, virtualService: record.spec.virtualService, id: record.id });

/**
 * The attempt this container runs: the stage's running attempt if there is one, else a new one.
 *
 * Orca evaluates a Run Job stage's manifest (and so SHIFT_SPEC) once, when the stage first starts,
 * and keeps it: "Restart stage" deploys a new Job with the same spec, so `create` hands back the
 * attempt that ended. Orca restarts only a stage that is not running, and a pod of the same Job
 * runs again only while the Job has not failed (backoffLimit 0: never after the CLI exits 1), so
 *   - a running attempt of this stage means its pod was lost (SIGKILL, node gone) and this pod
 *     takes over: a replacement pod of the same Job, or a restart within abandonAfter of the loss.
 *     Resume it, never shift a second time;
 *   - every attempt ended (TERMINAL, CANCELED, SUCCEEDED) means Orca restarted the stage: start a
 *     new attempt, as the webhook path does with the restart time Orca sends. Now is that time here.
 * Sources: docs/run-job.md "Restart stage", facts section runJobContract.
 */
async function startOrResume(engine: ShiftEngine, spec: NormalizedShiftSpec, out: (line: string) => void): Promise<ShiftRecord> {
  const found = await engine.create(spec);
  if (found.created) return found.record;
  const running = found.attempts.find((attempt) => attempt.phase === 'RUNNING');
  // Brought up to date first (not a poll: it renews nothing), so an attempt whose pod was lost for
  // longer than abandonAfter ends (weights restored) here and this restart starts afresh.
  const current = running && ((await engine.advance(refOf(running))) ?? running);
  if (current?.phase === 'RUNNING') {
    out(`resuming shift ${current.id} of this stage, still running (its pod was lost; this one takes over)`);
    return current;
  }
  const ended = current ?? found.attempts[found.attempts.length - 1] ?? found.record;
  out(`shift ${ended.id} of this stage ended ${ended.phase}; the stage was restarted: starting a new attempt`);
  return (await engine.create({ ...spec, restartedAt: Date.now() })).record;
}

/** Starts or re-adopts the shift and follows it until it ends; returns the exit code. */
async function runToTheEnd(engine: ShiftEngine, spec: NormalizedShiftSpec, out: (line: string) => void): Promise<number> {
  const print = (record: ShiftRecord) => out(toStatus(record, { statusUrl: '', cancelUrl: '' }, new Date()).message);

  let record: ShiftRecord;
  try {
    record = await startOrResume(engine, spec, out);
  } catch (error) {
    out(`error: ${(error as Error).message}`);
    return error instanceof ShiftError && error.kind !== 'unavailable' ? 2 : 1;
  }
  const ref = refOf(record);
  let cancelling = false;
  let wake = () => undefined as void;
  const onSignal = () => {
    cancelling = true;
    wake();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  print(record);
  let last = '';
  let failedLastTry = false;
  while (record.phase === 'RUNNING') {
    await new Promise<void>((resolve) => {
      // After a failed call wait even while cancelling: an API server that refuses connections
      // would otherwise make the rollback a busy loop that fills the Job's log until SIGKILL.
      const delay = failedLastTry ? RETRY_AFTER_ERROR_MS : cancelling ? 0 : delayUntilNextCheck(record);
      const timer = setTimeout(resolve, delay);
      // A signal ends the wait at once: rolling back must not wait for the pause.
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    try {
      // The CLI is the shift's poller: each check renews its watch lease, so a Job that dies (and
      // stops polling) leaves a shift the service, or the next CLI, restores after abandonAfter.
      record = (cancelling ? await engine.cancel(ref) : (await engine.status(ref, { polled: true }))?.record) ?? record;
    } catch (error) {
      out(`warning: ${(error as Error).message}; retrying`);
      failedLastTry = true;
      continue;
    }
    failedLastTry = false;
    const key = `${record.phase}/${record.currentStep}`;
    if (key !== last) print(record);
    last = key;
  }
  const status = toStatus(record, { statusUrl: '', cancelUrl: '' }, new Date());
  out(`SPINNAKER_CONFIG_JSON=${JSON.stringify({ shiftId: status.id, shiftStatus: status.status, shiftMessage: status.message, shiftWeights: status.currentWeights })}`);
  return record.phase === 'SUCCEEDED' ? 0 : 1;
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  // `pipelines …` renders/checks/applies canary pipelines (pipelines-cli.ts); everything else is `run`.
  (argv[0] === 'pipelines' ? import('./pipelines-cli').then((m) => m.runPipelines(argv.slice(1))) : run(argv)).then((code) => process.exit(code), (error) => {
    process.stderr.write(`fatal: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
