// The pipeline's facts, each once: versions, images, topics, ports, the environment contract and
// the secret kinds. Everything else (stacks, local services, bench, image builds, deploy tooling,
// workloads) reads them here; test/unit/facts.test.ts keeps it that way.
export * from './versions';
export * from './topics';
export * from './ports';
export * from './contract';
export * from './secrets';
