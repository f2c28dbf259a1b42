/**
 * The simulator refuses stage types Orca does not register: only what the Spinnaker facts table
 * (packages/pipelines/src/spinnaker-facts.json) holds is walked. No API call is made: the
 * refusal comes before the first stage runs (the kubeconfig points nowhere).
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import * as k8s from '@kubernetes/client-node';
import { STAGE_NAMES } from '@istio-shift/pipelines';
import { SimPipeline, UnsupportedPipelineError, dockerArtifact, walkPipeline } from './pipeline-simulator';

function nowhere(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: 'c', server: 'http://127.0.0.1:9' }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
  return kc;
}

const walk = (type: string) =>
  walkPipeline({
    pipeline: { application: 'checkout', stages: [{ refId: '1', requisiteStageRefIds: [], type, name: 'Find release image', mode: 'static', manifestName: 'deployment checkout', location: 'shop' }] },
    execution: { id: 'e', application: 'checkout', trigger: { type: 'manual', artifacts: [] } },
    kubeConfig: nowhere(),
    runShift: async () => ({ status: 'SUCCEEDED' }),
  });

describe('the pipeline simulator and the facts table', () => {
  it('refuses findArtifactFromResource (Orca registers findArtifactsFromResource; PIPELINE_CONFIG_TYPE is unused)', async () => {
    await expect(walk('findArtifactFromResource')).rejects.toThrow(UnsupportedPipelineError);
    await expect(walk('findArtifactFromResource')).rejects.toThrow(/findArtifactFromResource.*not in the Spinnaker facts table/);
  });

  it('refuses a stage type the facts table holds but the simulator does not simulate (kayentaCanary)', async () => {
    await expect(walk('kayentaCanary')).rejects.toThrow(/stage type kayentaCanary/);
  });
});

describe('the first-deploy gate', () => {
  it('a find that fails for another reason than 404 (Clouddriver unreachable) stops the pipeline at the check: nothing is deployed', async () => {
    const pipeline = JSON.parse(readFileSync(path.resolve(__dirname, '../../examples/checkout/pipelines/checkout-canary.json'), 'utf8')) as SimPipeline;
    const result = await walkPipeline({
      pipeline,
      execution: { id: 'e', application: 'checkout', trigger: { type: 'docker', artifacts: [dockerArtifact('ghcr.io/shop/checkout:v1.5.0')] } },
      kubeConfig: nowhere(),
      runShift: async () => ({ status: 'SUCCEEDED' }),
    });
    expect(result.status).toBe('TERMINAL');
    const ran = result.stages.filter((s) => s.status !== 'NOT_STARTED').map((s) => `${s.name}: ${s.status}`);
    expect(ran).toEqual([`${STAGE_NAMES.findImage}: FAILED_CONTINUE`, `${STAGE_NAMES.checkAbsent}: TERMINAL`]);
    expect(result.stages.find((s) => s.name === STAGE_NAMES.checkAbsent)?.detail).toMatch(/did not answer "not found": nothing was deployed/);
  });
});
