import { HOST_PORTS, UPSTREAM_IMAGES } from './facts';
import { checkJvmFits, checkRepoFolder, JVM_OVERHEAD_MIB, JvmResources, Problem } from './rules';

export interface SparkConfig {
  /** Base of the rtdatastream/spark-app image master, workers and driver run. @default 'apache/spark:<Spark>-scala2.12-java17-python3-ubuntu' */
  readonly image: string;
  /** Host port of the master UI. @default 8090 */
  readonly masterUiHostPort: number;
  /** Host port of the master's spark:// port. @default 7077 */
  readonly masterHostPort: number;
  /** Worker count on both platforms. @default 1 */
  readonly workers: number;
  /** Cores each worker offers. @default 1 */
  readonly workerCores: number;
  /** Memory each worker offers to executors, in MiB; must fit in resources.memoryMiB. @default 1024 */
  readonly workerMemoryMiB: number;
  /** Folder (relative to the repository) baked into the spark-app image as /opt/spark-apps. @default 'spark-apps' */
  readonly appsDir: string;
  /** The streaming application the driver submits. @default 'users_stream.py' */
  readonly app: string;
  /** Per master/worker/driver container. @default { cpu: 1, memoryMiB: 2048, heapMiB: 1024, requests: { cpu: 0.05, memoryMiB: 512 } } */
  readonly resources: JvmResources;
}

export const SPARK_DEFAULTS: SparkConfig = {
  image: UPSTREAM_IMAGES.spark,
  masterUiHostPort: HOST_PORTS.sparkMasterUi,
  masterHostPort: HOST_PORTS.sparkMaster,
  workers: 1,
  workerCores: 1,
  workerMemoryMiB: 1024,
  appsDir: 'spark-apps',
  app: 'users_stream.py',
  resources: { cpu: 1, memoryMiB: 2048, heapMiB: 1024, requests: { cpu: 0.05, memoryMiB: 512 } },
};

export function validateSpark(s: SparkConfig, bad: Problem): void {
  checkJvmFits('spark', s.resources, bad);
  if (s.workerMemoryMiB + JVM_OVERHEAD_MIB > s.resources.memoryMiB)
    bad('spark.workerMemoryMiB', s.workerMemoryMiB, `plus ${JVM_OVERHEAD_MIB} MiB overhead must fit spark.resources.memoryMiB (${s.resources.memoryMiB})`);
  if (!/^[\w.-]+\.py$/.test(s.app)) bad('spark.app', s.app, 'must be a .py file name inside spark.appsDir');
  checkRepoFolder('spark.appsDir', s.appsDir, bad);
}
