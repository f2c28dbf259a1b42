/**
 * The Run Job pieces Orca and clouddriver read: the Job has no fixed name (clouddriver RECREATEs
 * a named Job, so two shifts at once would delete each other's), and the documented
 * job.preconfigured block uses the key Orca binds (`uiType`, not `ui`).
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { runJobManifest } from './run-job';

const DOC = path.resolve(__dirname, '../../../docs/run-job.md');

/** The `job:` YAML block of docs/run-job.md (the settings for orca-local.yml). */
function preconfiguredBlock(): any {
  const block = /```yaml\n(job:\n[\s\S]*?)```/.exec(readFileSync(DOC, 'utf8'));
  if (!block) throw new Error('docs/run-job.md has no ```yaml block starting with job:');
  return parse(block[1]).job.preconfigured.kubernetes[0];
}

describe('the Run Job for Orca', () => {
  it('runJobManifest(): generateName, never a fixed metadata.name', () => {
    const job = runJobManifest({ steps: [{ weights: [100, 0] }] } as any, { image: 'i', namespace: 'spinnaker-jobs' }) as any;
    expect(job.metadata.name).toBeUndefined();
    expect(job.metadata.generateName).toBe('istio-traffic-shift-');
  });

  it('the documented preconfigured job says uiType: CUSTOM (Orca reads uiType; ui is ignored and leaves BASIC)', () => {
    const job = preconfiguredBlock();
    expect(job.uiType).toBe('CUSTOM');
    expect(job).not.toHaveProperty('ui');
  });

  it('the documented preconfigured job manifest has generateName, not a fixed name', () => {
    const { metadata } = preconfiguredBlock().manifest;
    expect(metadata.name).toBeUndefined();
    expect(metadata.generateName).toBe('istio-traffic-shift-');
  });
});
