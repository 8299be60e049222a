// Every local service, in start order (a service comes after what it depends on).
// Spark and Airflow append theirs at the end.
import { LocalService } from './service';
import { postgres } from './postgres';
import { zookeeper } from './zookeeper';
import { kafka } from './kafka';
import { apicurioRegistry as schemaRegistry } from './apicurio';
import { cassandra } from './cassandra';
import { spark } from './spark';
import { airflow } from './airflow';

export const services: readonly LocalService[] = [postgres, zookeeper, kafka, schemaRegistry, cassandra, spark, airflow];

/** The service called `name`; throws listing the known names. */
export function serviceNamed(name: string): LocalService {
  const found = services.find((s) => s.name === name);
  if (!found) throw new Error(`unknown service "${name}": known services are ${services.map((s) => s.name).join(', ')}`);
  return found;
}
