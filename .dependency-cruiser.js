// The floors, checked by a machine (npm run deps; the unit tier runs it too: test/unit/deps.test.ts).
//   config            PipelineConfig sections and config/facts: the ground floor
//   constructs        components, then the platform renderers
//   stacks, main.ts   one stack per deploy target
//   workloads         the code that runs inside the pipeline (reads config/facts only)
//   scripts, bench, test   tooling: reads the floors, imported by none of them
const IO = '^(node:)?(fs|fs/promises|net|http|https|http2|dgram|dns|tls|child_process|cluster|worker_threads)$';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import circle makes the load order an accident; break it by moving the shared part down.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'provider-only-in-renderers-and-stacks',
      comment: 'Only the platform renderers and the stacks know a Terraform provider; components describe ServiceSpecs.',
      severity: 'error',
      from: { pathNot: '^(constructs/platform|stacks)/' },
      to: { path: '@cdktf/provider-' },
    },
    {
      name: 'config-is-the-ground-floor',
      comment: 'config/ imports nothing of the project above it.',
      severity: 'error',
      from: { path: '^config/' },
      to: { path: '^(constructs|stacks|workloads|scripts|bench|test|main\\.ts)' },
    },
    {
      name: 'constructs-below-stacks',
      comment: 'Components and renderers never reach up into a stack or the app.',
      severity: 'error',
      from: { path: '^constructs/' },
      to: { path: '^(stacks/|main\\.ts)' },
    },
    {
      name: 'components-below-renderers',
      comment: 'A component speaks ServiceSpec (constructs/platform/spec.ts), never a renderer.',
      severity: 'error',
      from: { path: '^constructs/components/' },
      to: { path: '^constructs/platform/(docker|kubernetes)\\.ts$' },
    },
    {
      name: 'floors-never-import-tooling',
      comment: 'Nothing in config, constructs, stacks or workloads imports scripts, bench or test.',
      severity: 'error',
      from: { path: '^(config|constructs|stacks|workloads)/|^main\\.ts$' },
      to: { path: '^(scripts|bench|test)/' },
    },
    {
      name: 'workloads-read-config-facts-only',
      comment: 'The workloads image carries config/facts, not the cdktf config or the constructs.',
      severity: 'error',
      from: { path: '^workloads/' },
      to: { path: '^(constructs|stacks)/|^config/[^/]+\\.ts$' },
    },
    {
      name: 'pure-workload-modules-do-no-io',
      comment: "The pure core (normalize, page, copy-text, generate, avro) imports no I/O module: no file, network, database or process access.",
      severity: 'error',
      from: { path: '^workloads/(ingest/normalize|ingest/page|ingest/copy-text|source/generate|relay/avro)\\.ts$' },
      to: {
        path: [IO, '(^|/)node_modules/(pg|pg-copy-streams|kafkajs|@platformatic/kafka|cassandra-driver|prom-client)/', '^workloads/(shared/(http|kafka|cassandra|assets|metrics)|ingest/(fetch|landing|run|service)|relay/(relay|registry|schema|service)|migrate/)'],
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(cdktf\\.out|dist|\\.rtds)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['cjs', 'es6'],
  },
};
