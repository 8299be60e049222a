import { readGolden, splitStack, writeGolden } from './golden';
import { synthBoth } from './synth';
import { DeepPartial, PipelineConfig } from '../../../config';

/** The defaults, and what `npm run up` deploys on a machine without an image registry. */
const VARIANTS: Record<string, DeepPartial<PipelineConfig>> = {
  default: {},
  offline: { imageMode: 'local', console: { kind: 'none' }, secretSource: 'variables' },
};
const UPDATE = process.env.RTDS_UPDATE_GOLDEN === '1';

/**
 * KRaft mode of a variant above. Its golden files hold only what KRaft changes (Kafka, the images,
 * the cluster-id secret); every other file must equal the ZooKeeper-mode variant's.
 */
const KRAFT_VARIANTS: Record<string, string> = { kraft: 'default', 'offline-kraft': 'offline' };

describe.each(Object.entries(VARIANTS))('golden files of the %s stacks (committed: review a diff, then RTDS_UPDATE_GOLDEN=1)', (variant, overlay) => {
  const stacks = synthBoth(overlay);
  describe.each(['docker', 'kubernetes'] as const)('%s', (platform) => {
    const actual = splitStack(stacks[platform]);
    if (UPDATE) writeGolden(variant, platform, actual);
    const expected = readGolden(variant, platform);

    it('has one file per component, plus images, secrets and stack', () => {
      expect(Object.keys(actual).sort()).toEqual(Object.keys(expected));
    });

    it.each(Object.keys(actual).sort())('%s.json matches', (file) => {
      expect(JSON.parse(JSON.stringify(actual[file]))).toEqual(expected[file]);
    });
  });
});

describe.each(Object.entries(KRAFT_VARIANTS))('golden files of the %s stacks (kafka.mode kraft of the %s variant)', (variant, base) => {
  const zookeeperMode = synthBoth(VARIANTS[base]);
  const kraftMode = synthBoth({ ...VARIANTS[base], kafka: { mode: 'kraft' } });
  describe.each(['docker', 'kubernetes'] as const)('%s', (platform) => {
    const zk = splitStack(zookeeperMode[platform]);
    const actual = splitStack(kraftMode[platform]);
    const changed = Object.keys(actual).filter((f) => JSON.stringify(actual[f]) !== JSON.stringify(zk[f])).sort();
    if (UPDATE) writeGolden(variant, platform, Object.fromEntries(changed.map((f) => [f, actual[f]])));
    const expected = readGolden(variant, platform);

    it('drops ZooKeeper and changes only Kafka, the cluster-id secret and (Docker) the images', () => {
      expect({ dropped: Object.keys(zk).filter((f) => !(f in actual)), changed })
        .toEqual({ dropped: ['zookeeper'], changed: platform === 'docker' ? ['images', 'kafka', 'secrets'] : ['kafka', 'secrets'] });
      expect(Object.keys(expected)).toEqual(changed);
    });

    it.each(changed)('%s.json matches', (file) => {
      expect(JSON.parse(JSON.stringify(actual[file]))).toEqual(expected[file]);
    });
  });
});

describe('the golden files catch what matters', () => {
  const stacks = synthBoth();

  it('a changed image tag changes the postgres file and the images file only', () => {
    const bumped = synthBoth({ postgres: { image: 'postgres:17.7' } });
    const before = splitStack(stacks.docker);
    const after = splitStack(bumped.docker);
    const changed = Object.keys(after).filter((f) => JSON.stringify(after[f]) !== JSON.stringify(before[f])).sort();
    expect(changed).toEqual(['images', 'postgres']);
    expect(JSON.stringify(bumped.kubernetes)).toContain('"image":"postgres:17.7"');
  });

  it('declares the pinned providers: docker 3.6.2, kubernetes 2.38.0, random', () => {
    expect(stacks.docker.terraform.required_providers.docker).toEqual({ source: 'kreuzwerker/docker', version: '3.6.2' });
    expect(stacks.kubernetes.terraform.required_providers.kubernetes).toEqual({ source: 'kubernetes', version: '2.38.0' });
    expect(stacks.docker.terraform.required_providers.random).toEqual({ source: 'hashicorp/random', version: '3.7.2' });
    expect(stacks.docker.terraform.backend).toEqual({ local: { path: '../../../terraform.docker.tfstate' } });
    expect(Object.keys(stacks.docker.terraform.required_providers).sort()).toEqual(['docker', 'random']);
  });
});
