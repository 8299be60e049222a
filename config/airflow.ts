import { HOST_PORTS, UPSTREAM_IMAGES } from './facts';
import { checkIdentifier, checkRepoFolder, Problem, Resources } from './rules';

export interface AirflowConfig {
  /** Base of the rtdatastream/airflow-app image every Airflow service runs (Python 3.11, as constraints/). @default 'apache/airflow:<Airflow>-python<Python>' */
  readonly image: string;
  /** Host port of the API server / UI. @default 8080 */
  readonly hostPort: number;
  /** Login of the admin user made by the init step (its password is generated). @default 'admin' */
  readonly adminUser: string;
  /** Folder (relative to the repository) baked into the airflow-app image as /opt/airflow/dags. @default 'dags' */
  readonly dagsDir: string;
  /** Users fetched per DAG run (PIPELINE_USERS_PER_RUN). @default 1000 */
  readonly usersPerRun: number;
  /** DAG schedule (PIPELINE_SCHEDULE). @default '@hourly' */
  readonly schedule: string;
  /** Landing rows not yet in Kafka above which the DAG's check fails (PIPELINE_MAX_LAG_ROWS). @default 10000 */
  readonly maxLagRows: number;
  /** Per Airflow process (api-server, scheduler, dag-processor). @default { cpu: 1, memoryMiB: 2048, requests: { cpu: 0.1, memoryMiB: 512 } } */
  readonly resources: Resources;
}

export const AIRFLOW_DEFAULTS: AirflowConfig = {
  image: UPSTREAM_IMAGES.airflow,
  hostPort: HOST_PORTS.airflow,
  adminUser: 'admin',
  dagsDir: 'dags',
  usersPerRun: 1000,
  schedule: '@hourly',
  maxLagRows: 10000,
  resources: { cpu: 1, memoryMiB: 2048, requests: { cpu: 0.1, memoryMiB: 512 } },
};

export function validateAirflow(a: AirflowConfig, bad: Problem): void {
  checkIdentifier('airflow.adminUser', a.adminUser, bad);
  checkRepoFolder('airflow.dagsDir', a.dagsDir, bad);
}
