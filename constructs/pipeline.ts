import { Construct } from 'constructs';
import { PipelineConfig } from '../config';
import { Platform } from './platform/spec';
import { readPythonFiles } from './components/common';
import { ZooKeeper } from './components/zookeeper';
import { Kafka } from './components/kafka';
import { SchemaRegistry } from './components/schema-registry';
import { KafkaConsole } from './components/kafka-console';
import { Postgres } from './components/postgres';
import { Cassandra } from './components/cassandra';
import { Workloads } from './components/workloads';
import { Spark } from './components/spark';
import { Airflow } from './components/airflow';

export interface PipelineProps {
  /** Deploy target the services are rendered on. */
  readonly platform: Platform;
  /** The validated pipeline configuration. */
  readonly config: PipelineConfig;
  /** Repository root: dags/ and spark-apps/ are checked here (the app images bake them in). */
  readonly repoDir: string;
}

/** Every component of the pipeline, wired through their typed endpoints, on one platform. */
export class Pipeline extends Construct {
  readonly zookeeper?: ZooKeeper;
  readonly kafka: Kafka;
  readonly schemaRegistry: SchemaRegistry;
  /** Absent with console.kind 'none'. */
  readonly console?: KafkaConsole;
  readonly postgres: Postgres;
  readonly cassandra: Cassandra;
  readonly workloads: Workloads;
  readonly spark: Spark;
  readonly airflow: Airflow;

  constructor(scope: Construct, id: string, props: PipelineProps) {
    super(scope, id);
    const { platform, config, repoDir } = props;
    const base = { platform, config };
    if (config.kafka.mode === 'zookeeper') this.zookeeper = new ZooKeeper(this, 'zookeeper', base);
    this.kafka = new Kafka(this, 'kafka', { ...base, zookeeper: this.zookeeper });
    this.schemaRegistry = new SchemaRegistry(this, 'schema-registry', { ...base, kafka: this.kafka });
    if (config.console.kind !== 'none') {
      this.console = new KafkaConsole(this, 'console', { ...base, kafka: this.kafka, schemaRegistry: this.schemaRegistry });
    }
    this.postgres = new Postgres(this, 'postgres', base);
    this.cassandra = new Cassandra(this, 'cassandra', base);
    this.workloads = new Workloads(this, 'workloads', {
      ...base, postgres: this.postgres, kafka: this.kafka, schemaRegistry: this.schemaRegistry,
    });
    const apps = readPythonFiles(repoDir, config.spark.appsDir, 'spark.appsDir');
    this.spark = new Spark(this, 'spark', {
      ...base, kafka: this.kafka, schemaRegistry: this.schemaRegistry, cassandra: this.cassandra, apps,
    });
    this.airflow = new Airflow(this, 'airflow', {
      ...base, postgres: this.postgres, kafka: this.kafka, schemaRegistry: this.schemaRegistry,
      cassandra: this.cassandra, workloads: this.workloads, spark: this.spark,
      dags: readPythonFiles(repoDir, config.airflow.dagsDir, 'airflow.dagsDir'),
    });
  }
}
