import * as fs from 'fs';
import * as path from 'path';
import { PipelineConfig } from '../../config';
import { AIRFLOW_CONSTRAINTS, COPY_DEPENDENCIES, LOCAL_IMAGE_ARGS, UPSTREAM_IMAGES } from '../../config/facts';
import { ImageRef, Platform, ResourceSpec } from '../platform/spec';

/** What every component construct receives. */
export interface ComponentProps {
  /** Where the component's services are rendered. */
  readonly platform: Platform;
  /** The validated pipeline configuration. */
  readonly config: PipelineConfig;
}

/** Directory under images/ each component's local image is built from (imageMode 'local'): the keys of LOCAL_IMAGE_ARGS. */
export type LocalImageDir = keyof typeof LOCAL_IMAGE_ARGS;

/**
 * The pinned upstream image, or in imageMode 'local' `rtdatastream/<dir>:<upstream version>` built from
 * images/<dir>/Dockerfile (a drop-in for the upstream image: same entrypoint, paths and env).
 */
export function componentImage(config: PipelineConfig, dir: LocalImageDir, upstream: string): ImageRef {
  if (config.imageMode === 'upstream') return { name: upstream };
  // The Dockerfile's version ARGs come from config/facts: the images carry no version of their own.
  const args = LOCAL_IMAGE_ARGS[dir];
  return { name: `rtdatastream/${dir}:${softwareVersion(upstream)}`, build: { context: `images/${dir}`, ...(Object.keys(args).length ? { args } : {}) } };
}

/** The software version of an image tag: variant suffixes (-scala2.12-java17-...) describe the upstream build. */
export function softwareVersion(image: string): string {
  return image.slice(image.lastIndexOf(':') + 1).split('-')[0];
}

/**
 * What Spark master, workers and driver run in both image modes: spark.image (or its local stand-in)
 * with the connector jars, the job's Python libraries and spark.appsDir baked in (images/spark-app).
 */
export function sparkAppImage(config: PipelineConfig): ImageRef {
  const base = componentImage(config, 'spark', config.spark.image);
  const apps = config.spark.appsDir;
  return {
    name: `rtdatastream/spark-app:${softwareVersion(config.spark.image)}-${config.version}`,
    build: {
      context: '.',
      dockerfile: 'images/spark-app/Dockerfile',
      args: { SPARK_IMAGE: base.name, APPS_DIR: apps, COPY_DEPENDENCIES },
      base,
      watch: ['images/spark-app/**', `${apps}/*.py`, `${apps}/requirements.txt`, `${apps}/jars/pom.xml`],
    },
  };
}

/**
 * What every Airflow service runs in both image modes: airflow.image (or its local stand-in) with
 * the DAG's Python clients and airflow.dagsDir baked in (images/airflow-app).
 */
export function airflowAppImage(config: PipelineConfig): ImageRef {
  const base = componentImage(config, 'airflow', config.airflow.image);
  const dags = config.airflow.dagsDir;
  return {
    name: `rtdatastream/airflow-app:${softwareVersion(config.airflow.image)}-${config.version}`,
    build: {
      context: '.',
      dockerfile: 'images/airflow-app/Dockerfile',
      args: { AIRFLOW_IMAGE: base.name, DAGS_DIR: dags, AIRFLOW_CONSTRAINTS },
      base,
      watch: ['images/airflow-app/**', AIRFLOW_CONSTRAINTS, `${dags}/*.py`],
    },
  };
}

/** The project's own image: ingest, relay, the bundled source and the migrations. */
export function workloadsImage(config: PipelineConfig): ImageRef {
  return {
    name: `${config.workloads.image}:${config.version}`,
    build: {
      context: '.',
      dockerfile: 'workloads/Dockerfile',
      args: { NODE_IMAGE: UPSTREAM_IMAGES.node },
      // The workloads read the topic, port and env-contract facts from config/ at build time.
      watch: ['workloads/**', 'config/**', 'package.json', 'package-lock.json', 'tsconfig.json'],
    },
  };
}

/** A one-shot init step running a CLI (kafka-topics, cqlsh): short-lived, small at rest. */
export const INIT_JOB_RESOURCES: ResourceSpec = { cpu: 0.5, memoryMiB: 512, requests: { cpu: 0.1, memoryMiB: 256 } };

/** Shell line giving `ord` the replica's ordinal (the trailing -N of a StatefulSet pod name; 0 on Docker). */
export const ORDINAL_FROM_HOSTNAME = 'ord=${HOSTNAME##*-}; case "$ord" in ""|*[!0-9]*) ord=0;; esac';

/** Reads every top-level *.py file of a repository folder, sorted by name. */
export function readPythonFiles(repoDir: string, folder: string, field: string): Record<string, string> {
  const dir = path.resolve(repoDir, folder);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
    throw new Error(`${field}: folder '${folder}' does not exist under ${repoDir}`);
  const files: Record<string, string> = {};
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.py')).sort()) {
    files[name] = fs.readFileSync(path.join(dir, name), 'utf8');
  }
  return files;
}
