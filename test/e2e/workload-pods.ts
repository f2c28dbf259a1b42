/**
 * The pods a Deployment would have on a real cluster. The test control plane runs no
 * controller-manager and no kubelet, so a deployed Deployment never gets pods; the canary
 * analysis' pod-status metrics (restarts, readiness, OOM kills) read pods through the scope's
 * podSelector. This creates them as the ReplicaSet controller would (the template's labels and
 * containers) and writes their status subresource as the kubelet reports a running, Ready pod
 * (as stage-service/test/pod-status.cluster.test.ts does), so those metrics measure real objects.
 */
import * as k8s from '@kubernetes/client-node';

/** `checkout-canary` -> `checkout-canary-5d8f7c9b4-x1`: a ReplicaSet-style name, also what the mesh exporter labels cAdvisor series with. */
export const podNameFor = (deployment: string) => `${deployment}-5d8f7c9b4-x1`;

export async function runDeploymentPod(kc: k8s.KubeConfig, namespace: string, deployment: string): Promise<void> {
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const template = (await apps.readNamespacedDeployment({ name: deployment, namespace })).spec!.template;
  const name = podNameFor(deployment);
  // No nodeName: with no kubelet to confirm, a bound pod would stay Terminating when deleted.
  const pod = await core.createNamespacedPod({
    namespace,
    body: { metadata: { name, labels: template.metadata?.labels }, spec: { containers: template.spec!.containers } },
  });
  const started = new Date();
  pod.status = {
    phase: 'Running',
    podIP: '10.1.0.7',
    startTime: started,
    conditions: ['Initialized', 'ContainersReady', 'Ready', 'PodScheduled'].map((type) => ({ type, status: 'True', lastTransitionTime: started })),
    containerStatuses: template.spec!.containers.map((c) => ({
      name: c.name,
      image: c.image!,
      imageID: `${c.image}@sha256:${'0'.repeat(64)}`,
      ready: true,
      started: true,
      restartCount: 0,
      state: { running: { startedAt: started } },
      lastState: {},
    })),
  };
  await core.replaceNamespacedPodStatus({ namespace, name, body: pod });
}
