/**
 * Triggers checked against the release image (k8s/): a Docker trigger whose repository is not the
 * image's never starts the pipeline, or starts it with another image, and nothing says so at run
 * time; a Git trigger never starts it. Both are refused here, naming the parameter file's line
 * and the manifest's.
 */
import { parse as parseWithPointers } from 'json-source-map';
import { ImageReference, triggerMismatch } from './docker-image';
import { InputProblem, pointerToPath } from './problems';
import type { Trigger } from './params';

export function triggerProblems(triggers: Trigger[], image: ImageReference, imageAt: { file: string; line: number }, paramsFile: string, paramsText: string): InputProblem[] {
  let pointers: Record<string, { key?: { line: number }; value?: { line: number } }> = {};
  try {
    pointers = parseWithPointers(paramsText).pointers;
  } catch {
    // Parsed before (parseParams); without positions the problems still name the file.
  }
  const lineOf = (pointer: string) => {
    const found = pointers[pointer];
    const position = found?.key ?? found?.value;
    return position ? position.line + 1 : undefined;
  };
  const problems: InputProblem[] = [];
  triggers.forEach((trigger, i) => {
    const pointer = `/triggers/${i}`;
    if (trigger.type === 'docker') {
      const mismatch = triggerMismatch(trigger.repository, image);
      if (mismatch) {
        problems.push({
          file: paramsFile,
          line: lineOf(`${pointer}/repository`),
          path: pointerToPath(`${pointer}/repository`),
          message: `${mismatch}, written in ${imageAt.file}:${imageAt.line}: echo starts the pipeline only for pushes to the trigger's repository (DockerEventHandler.isMatchingTrigger), and Clouddriver binds only an image of the manifest's repository`,
          fix: `set "repository" to "${image.path}", or correct the image in ${imageAt.file}:${imageAt.line}`,
        });
      }
    }
    if (trigger.type === 'git') {
      problems.push({
        file: paramsFile,
        line: lineOf(pointer),
        path: pointerToPath(pointer),
        message:
          'a git trigger never starts this pipeline: a push carries only git artifacts (echo GitEventHandler.getArtifactsFromEvent) and the pipeline expects the docker/image artifact of a new image (ArtifactMatcher.anyArtifactsMatchExpected); a push builds no image to canary',
        fix: `replace it with a docker trigger on the image your CI builds from that push (repository "${image.path}")`,
      });
    }
  });
  return problems;
}
