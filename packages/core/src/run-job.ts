/**
 * The Kubernetes Job that runs one shift as an Orca "Run Job (Manifest)" stage: the CLI image with
 * the spec in an environment variable, no retries, and a deadline from the shift's own length.
 * Pure, so a pipeline generator (or the Deck editor) can put it into a `runJobManifest` stage.
 * docs/run-job.md explains the fields; stage-service/deploy/run-job/ has the same as YAML.
 */
import { parseDurationSeconds } from './duration';
import { LIMITS, ShiftSpec } from './spec';

/** The container's name: Orca's `propertyFile` names it to read SPINNAKER_CONFIG_JSON from its log. */
export const RUN_JOB_CONTAINER = 'istio-traffic-shift';
/** The environment variable the CLI reads the spec from (`--spec-env`). */
export const RUN_JOB_SPEC_ENV = 'SHIFT_SPEC';
/** Seconds per step for patching and polls beyond its pause, and once for start and rollback. */
const STEP_SLACK_SECONDS = 60;
const FIXED_SLACK_SECONDS = 300;

export interface RunJobOptions {
  image: string;
  /** Where the Job runs (Spinnaker's job namespace); the VirtualService may be elsewhere. */
  namespace: string;
  /**
   * Prefix of the Job's name (metadata.generateName; the API server appends 5 characters). Never a
   * fixed metadata.name: clouddriver's run-job operation deploys a named Job with strategy RECREATE
   * (delete the same-named Job, then create), so two shifts at once would delete each other's Job;
   * with generateName it runs `kubectl create` and Orca follows the created name.
   */
  generateName?: string;
  serviceAccountName?: string;
}

/**
 * Sum of the steps' pauses plus slack: past it Kubernetes stops the pod and the CLI rolls back.
 * A pause Orca has yet to evaluate (SpEL) counts as the longest one allowed.
 */
export function runJobDeadlineSeconds(spec: Pick<ShiftSpec, 'steps'>): number {
  const pauseSeconds = (pause: string | undefined) => (pause === undefined ? 0 : (parseDurationSeconds(pause) ?? LIMITS.maxPauseSeconds));
  const pauses = spec.steps.reduce((sum, step) => sum + pauseSeconds(step.pause), 0);
  return pauses + STEP_SLACK_SECONDS * spec.steps.length + FIXED_SLACK_SECONDS;
}

/** The Job for `spec` as the pipeline writes it (SpEL allowed: Orca evaluates the manifest). */
export function runJobManifest(spec: ShiftSpec, options: RunJobOptions): Record<string, unknown> {
  // validateShiftSpec().spec has steps[].pauseSeconds instead of pause: the CLI would run it without pauses.
  if (spec.steps.some((step) => 'pauseSeconds' in step)) {
    throw new Error('runJobManifest() takes the shift spec as written (steps[].pause), not the normalized spec from validateShiftSpec()');
  }
  const labels = { 'app.kubernetes.io/name': 'istio-traffic-shift', 'app.kubernetes.io/component': 'run-job' };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { generateName: options.generateName ?? 'istio-traffic-shift-', namespace: options.namespace, labels },
    spec: {
      // A failed shift has already rolled back: running it again would move traffic a second time.
      backoffLimit: 0,
      activeDeadlineSeconds: runJobDeadlineSeconds(spec),
      template: {
        metadata: {
          labels,
          // An Istio sidecar would keep the pod running after the CLI exits, so the Job never ends.
          annotations: { 'sidecar.istio.io/inject': 'false' },
        },
        spec: {
          serviceAccountName: options.serviceAccountName ?? 'istio-traffic-shift-job',
          restartPolicy: 'Never',
          // SIGTERM (Job deleted, deadline) rolls traffic back; give the patches time to land.
          terminationGracePeriodSeconds: 60,
          securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: RUN_JOB_CONTAINER,
              image: options.image,
              args: ['run', '--spec-env', RUN_JOB_SPEC_ENV, '--in-cluster'],
              env: [{ name: RUN_JOB_SPEC_ENV, value: JSON.stringify(spec) }],
              resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
    },
  };
}
