// imageMode 'local' on either target: the shared layers the component Dockerfiles start from,
// and the check that every local image the stack names is built at the version config/facts gives.
import * as fs from 'fs';
import * as path from 'path';
import { LOCAL_IMAGE_VERSIONS } from '../../config/facts';
import { log, readStack, repoRoot, secondsSince } from './engine';
import { KafkaMode } from '../../config';
import { buildImages, layersFor } from './images';

/**
 * Local images are tagged with the upstream version they stand in for, but built from
 * images/<dir>/Dockerfile at the version config/facts gives (its ARGs, and the shared layers
 * images.ts builds). Returns the problems: a missing Dockerfile, or a tag of another version.
 */
export function localImageProblems(stack: string = 'docker'): string[] {
  const problems: string[] = [];
  for (const image of Object.values(readStack(stack).resource?.docker_image ?? {})) {
    const m = /^rtdatastream\/([a-z0-9-]+):(.+)$/.exec(String(image.name));
    const context = image.build?.context ?? '';
    if (!m || !context.endsWith(`/images/${m[1]}`)) continue;
    const dockerfile = path.join(repoRoot, 'images', m[1], 'Dockerfile');
    if (!fs.existsSync(dockerfile)) {
      problems.push(`${image.name}: images/${m[1]}/Dockerfile does not exist`);
      continue;
    }
    const built = LOCAL_IMAGE_VERSIONS[m[1]];
    if (built !== m[2]) {
      problems.push(`${image.name}: images/${m[1]}/Dockerfile builds version ${built ?? '(none in config/facts LOCAL_IMAGE_VERSIONS)'}, the stack asks for ${m[2]}`);
    }
  }
  return problems;
}

/** Refuses a stack whose local image tags drift from config/facts; warns about a missing Dockerfile. */
export function checkLocalImages(stack: string): void {
  const problems = localImageProblems(stack);
  const drift = problems.filter((p) => !p.endsWith('does not exist'));
  if (drift.length) throw new Error(`local images do not match the stack's versions:\n  ${drift.join('\n  ')}`);
  for (const p of problems) log(`warning: ${p}; the deploy will fail on that image`);
}

/** The shared layers the mode needs only: the component images are built by the Docker provider from images/<dir>. */
export async function buildLayers(kafkaMode: KafkaMode): Promise<number> {
  const start = Date.now();
  await buildImages(layersFor(kafkaMode));
  log(`local base layers ready in ${secondsSince(start)} s`);
  return secondsSince(start);
}
