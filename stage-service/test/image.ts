/**
 * The image stage-service/image/build.sh builds (one image for the Run Job CLI and the stage
 * service), read with buildah. Tests never build it: a missing or stale image fails with the
 * command that builds it (.ci/run runs it before npm test).
 */
import { execFileSync } from 'child_process';
import { readdirSync, readFileSync } from 'fs';
const { sourceHash } = require('../image/source-hash.js') as { sourceHash: () => string };

export const IMAGE = process.env.ISTIO_SHIFT_IMAGE ?? `localhost/istio-traffic-shift:${require('../package.json').version}`;
const BUILD_COMMAND = 'bash stage-service/image/build.sh';

export interface ImageConfig {
  User: string;
  Entrypoint: string[];
  WorkingDir: string;
  Labels: Record<string, string>;
}

export function buildah(args: string[]): string {
  return execFileSync('buildah', ['--storage-driver', 'vfs', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The image's OCI config; throws the build command when the image is missing or older than the code. */
export function imageConfig(): ImageConfig {
  let inspected: string;
  try {
    inspected = buildah(['inspect', '--type', 'image', IMAGE]);
  } catch (error) {
    const missingTool = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(
      missingTool
        ? 'buildah is not installed: apt-get install -y --no-install-recommends buildah mmdebstrap'
        : `the image ${IMAGE} is missing: build it with \`${BUILD_COMMAND}\` (.ci/run does this before npm test)`,
    );
  }
  const config = JSON.parse(inspected).OCIv1.config as ImageConfig;
  const built = config.Labels['io.github.istio-traffic-shift.source-hash'];
  if (built !== sourceHash()) {
    throw new Error(`the image ${IMAGE} was built from other sources (${built}, now ${sourceHash()}): rebuild it with \`${BUILD_COMMAND}\``);
  }
  return config;
}

/**
 * The container's main process (`program`, e.g. /usr/local/bin/node), a descendant of `buildah run`
 * (pid `root`): what kubelet would signal. buildah does not forward signals itself.
 */
export function containerProcess(root: number, program: string): number | undefined {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // the process ended while we looked
    }
  }
  const descendants = [root];
  for (let i = 0; i < descendants.length; i++) {
    for (const [pid, parent] of parents) if (parent === descendants[i]) descendants.push(pid);
  }
  return descendants.find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] === program;
    } catch {
      return false;
    }
  });
}
