// Test tiers. `unit` needs no service and runs in seconds; `integration` talks to the real
// local services (started by its global setup); `e2e` adds Spark and Airflow; `faults` crashes them under load; `deploy` runs
// `cdktf deploy` against a Docker engine; `k8s` runs on the project's own Kubernetes cluster
// (scripts/cluster), which it brings up and takes down.
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: true }];
const project = (name, extra = {}) => ({
  displayName: name,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': tsJest },
  testMatch: [`<rootDir>/test/${name}/**/*.test.ts`],
  ...extra,
});

module.exports = {
  projects: [
    // A synth of both stacks takes seconds; on a busy machine more than jest's 5 s default.
    project('unit', { testTimeout: 30_000 }),
    project('integration', { globalSetup: '<rootDir>/test/integration/global-setup.ts' }),
    project('e2e', { globalSetup: '<rootDir>/test/integration/global-setup.ts' }),
    project('faults', { globalSetup: '<rootDir>/test/faults/global-setup.ts', globalTeardown: '<rootDir>/test/faults/global-teardown.ts' }),
    project('deploy'),
    project('k8s'),
  ],
};
