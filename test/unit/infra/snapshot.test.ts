import { synthBoth } from './synth';

describe('synthesized stacks (committed snapshots: review a diff before updating with -u)', () => {
  const stacks = synthBoth();

  it('docker stack', () => {
    expect(stacks.docker).toMatchSnapshot();
  });

  it('kubernetes stack', () => {
    expect(stacks.kubernetes).toMatchSnapshot();
  });

  it('differs when one component image tag changes, so the snapshot catches it', () => {
    const bumped = synthBoth({ postgres: { image: 'postgres:17.7' } });
    expect(JSON.stringify(bumped.docker)).not.toEqual(JSON.stringify(stacks.docker));
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
