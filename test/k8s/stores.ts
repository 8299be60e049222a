// What the pipeline's two stores hold, read inside the cluster with the tools their images ship
// (psql over PostgreSQL's local socket, cqlsh as the pipeline's role), so the check needs no
// route from the host to the pods.
import { CASSANDRA_KEYSPACE, CASSANDRA_TABLE } from '../../config/facts';
import { Kube, kubectl } from '../../scripts/deploy/kubectl';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A key of a Secret of the namespace, decoded. */
export function secretValue(kube: Kube, namespace: string, secret: string, key: string): string {
  const b64 = kubectl(kube, ['get', 'secret', '-n', namespace, secret, '-o', `jsonpath={.data.${key}}`]);
  return Buffer.from(b64, 'base64').toString('utf8');
}

/** Every user id in the landing table (what ingest landed). */
export function landedIds(kube: Kube, namespace: string, database: string, where = ''): string[] {
  const out = kubectl(kube, ['exec', '-n', namespace, 'postgres-0', '-c', 'postgres', '--',
    'psql', '-U', 'postgres', '-d', database, '-tAc', `SELECT id FROM landing_users ${where}`]);
  return out.split('\n').filter(Boolean);
}

/**
 * Every user id in Cassandra's users table, read at QUORUM from `node` (any live one): with
 * replication 3 that sees every write the Spark job had acknowledged, with one node down too.
 */
export function cassandraIds(kube: Kube, namespace: string, node: string, user: string, password: string): string[] {
  const cql = `CONSISTENCY QUORUM; PAGING OFF; SELECT id FROM ${CASSANDRA_KEYSPACE}.${CASSANDRA_TABLE};`;
  const out = kubectl(kube, ['exec', '-n', namespace, node, '-c', 'cassandra', '--',
    'cqlsh', '--request-timeout=120', '-u', user, '-p', password, '-e', cql, `${node}.cassandra-headless.${namespace}.svc.cluster.local`]);
  // cqlsh prints notices, a header, a dashed line, the rows (user ids are UUIDs) and "(N rows)".
  return out.split('\n').map((l) => l.trim()).filter((l) => UUID.test(l));
}

/** Ids of `a` missing from `b`, at most `max` of them. */
export function missing(a: readonly string[], b: readonly string[], max = 5): string[] {
  const have = new Set(b);
  return a.filter((id) => !have.has(id)).slice(0, max);
}
