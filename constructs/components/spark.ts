import { Construct } from 'constructs';
import { ENV, PORTS, usersStreamEnv } from '../../config/facts';
import { ComponentProps, sparkAppImage } from './common';
import { Kafka } from './kafka';
import { SchemaRegistry } from './schema-registry';
import { Cassandra } from './cassandra';

const SPARK_MASTER_PORT = PORTS.sparkMaster;
const SPARK_MASTER_UI_PORT = PORTS.sparkMasterUi;
const SPARK_WORKER_UI_PORT = PORTS.sparkWorkerUi;
const SPARK_DRIVER_UI_PORT = PORTS.sparkDriverUi;

export interface SparkProps extends ComponentProps {
  /** Topic the job reads and its dead-letter topic. */
  readonly kafka: Kafka;
  /** Registry the job looks schema ids up in. */
  readonly schemaRegistry: SchemaRegistry;
  /** Sink of the stream. */
  readonly cassandra: Cassandra;
  /** File name → content of every spark.appsDir/*.py, all baked into the spark-app image. */
  readonly apps: Readonly<Record<string, string>>;
}

/** Where images/spark-app puts spark.appsDir. */
const APPS_DIR = '/opt/spark-apps';
/** The image's work dir: it exists owned by the spark user, so a fresh Docker volume mounted there is writable. */
const STATE_DIR = '/opt/spark/work-dir';

/**
 * Spark standalone master, N workers, and the streaming driver running spark.app (users_stream.py)
 * in client mode, checkpointing to its own persistent volume. All run the spark-app image, which
 * carries the connector jars and Python libraries: nothing is downloaded when they start.
 */
export class Spark extends Construct {
  readonly masterService = 'spark-master';
  readonly workerService = 'spark-worker';
  readonly driverService = 'users-stream';
  /** spark://host:port of the master. */
  readonly masterUrl: string;

  constructor(scope: Construct, id: string, props: SparkProps) {
    super(scope, id);
    const { platform, config, kafka, schemaRegistry, cassandra, apps } = props;
    const s = config.spark;
    if (!(s.app in apps)) throw new Error(`spark.app: '${s.app}' is not among the files of spark.appsDir '${s.appsDir}' (${Object.keys(apps).filter((f) => f.endsWith('.py')).join(', ') || 'no .py files'})`);
    const image = sparkAppImage(config);
    this.masterUrl = `spark://${this.masterService}:${SPARK_MASTER_PORT}`;
    const runAs = { user: 185, group: 185 };

    platform.add({
      name: this.masterService,
      component: 'spark',
      kind: 'stateless',
      image,
      command: ['/opt/spark/bin/spark-class', 'org.apache.spark.deploy.master.Master',
        '--host', '0.0.0.0', '--port', String(SPARK_MASTER_PORT), '--webui-port', String(SPARK_MASTER_UI_PORT)],
      env: { SPARK_DAEMON_MEMORY: `${s.resources.heapMiB}m`, SPARK_PUBLIC_DNS: 'localhost' },
      ports: [
        { name: 'master', containerPort: SPARK_MASTER_PORT, hostPort: s.masterHostPort },
        { name: 'ui', containerPort: SPARK_MASTER_UI_PORT, hostPort: s.masterUiHostPort },
      ],
      health: { probe: { tcpPort: SPARK_MASTER_PORT }, startPeriodSeconds: 20 },
      resources: s.resources,
      runAs,
    });

    platform.add({
      name: this.workerService,
      component: 'spark',
      kind: 'stateless',
      image,
      command: ['/opt/spark/bin/spark-class', 'org.apache.spark.deploy.worker.Worker',
        '--cores', String(s.workerCores), '--memory', `${s.workerMemoryMiB}m`, '--webui-port', String(SPARK_WORKER_UI_PORT),
        '--work-dir', '/tmp/spark-work', this.masterUrl],
      env: { SPARK_DAEMON_MEMORY: '512m', HOME: '/tmp' },
      ports: [{ name: 'ui', containerPort: SPARK_WORKER_UI_PORT }],
      health: { probe: { tcpPort: SPARK_WORKER_UI_PORT }, startPeriodSeconds: 20 },
      resources: s.resources,
      replicas: s.workers,
      runAs,
      dependsOn: [{ service: this.masterService, condition: 'healthy' }],
    });

    const modules = Object.keys(apps).filter((f) => f.endsWith('.py') && f !== s.app).map((f) => `${APPS_DIR}/${f}`);
    const submit = [
      '/opt/spark/bin/spark-submit',
      `--master ${this.masterUrl}`,
      '--deploy-mode client',
      '--name users-stream',
      // Executors connect back to the driver by address; the pod/container IP is what they can reach.
      '--conf spark.driver.host=`hostname -i | cut -d" " -f1`',
      '--conf spark.driver.bindAddress=0.0.0.0',
      `--conf spark.driver.memory=${s.resources.heapMiB}m`,
      `--conf spark.executor.memory=${Math.max(512, s.workerMemoryMiB - 384)}m`,
      ...(modules.length ? [`--py-files ${modules.join(',')}`] : []),
      `${APPS_DIR}/${s.app}`,
    ].join(' ');
    platform.add({
      name: this.driverService,
      component: 'spark',
      kind: 'stateful',
      image,
      command: ['bash', '-c', `exec ${submit}`],
      env: {
        ...usersStreamEnv({
          kafka: { bootstrapServers: kafka.bootstrapServers, schemaRegistryUrl: schemaRegistry.url, topic: kafka.topic },
          deadLetterTopic: kafka.deadLetterTopic,
          cassandra,
          checkpointDir: `${STATE_DIR}/checkpoints`,
        }),
        HOME: '/tmp',
      },
      secretEnv: { [ENV.cassandraPassword]: cassandra.password },
      ports: [{ name: 'ui', containerPort: SPARK_DRIVER_UI_PORT }],
      volumes: [{ kind: 'persistent', name: 'state', mountPath: STATE_DIR, sizeGiB: 2 }],
      health: { probe: { tcpPort: SPARK_DRIVER_UI_PORT }, startPeriodSeconds: 60 },
      resources: s.resources,
      runAs,
      dependsOn: [
        { service: this.workerService, condition: 'healthy' },
        { service: kafka.topicsJob, condition: 'completed' },
        { service: 'register-schema', condition: 'completed' },
        { service: cassandra.migrateJob, condition: 'completed' },
      ],
    });
  }
}
