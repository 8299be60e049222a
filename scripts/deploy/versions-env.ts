// Prints the versions images.sh builds the shared layers for, as shell assignments, from
// config/facts/versions.ts (the script holds no version of its own):  eval "$(ts-node versions-env.ts)"
import { COPY_DEPENDENCIES, LOCAL_IMAGE_VERSIONS, VERSIONS } from '../../config/facts';

const vars: Record<string, string> = {
  NODE_VERSION: VERSIONS.node,
  NPM_VERSION: VERSIONS.npm,
  CONFLUENT_VERSION: VERSIONS.confluentPlatform,
  KAFKA_VERSION: VERSIONS.kafka,
  SLF4J_RELOAD4J_VERSION: VERSIONS.slf4jReload4j,
  POSTGRES_TAG: LOCAL_IMAGE_VERSIONS.postgres,
  CASSANDRA_VERSION: VERSIONS.cassandra,
  SPARK_VERSION: VERSIONS.spark,
  AIRFLOW_VERSION: VERSIONS.airflow,
  APICURIO_VERSION: VERSIONS.apicurio,
  COPY_DEPENDENCIES,
};
process.stdout.write(Object.entries(vars).map(([k, v]) => `${k}='${v}'`).join('\n') + '\n');
