import { Construct } from 'constructs';
import { cassandraClientEnv, effectiveReplication, ENV, PORTS } from '../../config/facts';
import { ComponentProps, componentImage, INIT_JOB_RESOURCES, workloadsImage } from './common';
import { SecretRef } from '../platform/spec';

const CASSANDRA_PORT = PORTS.cassandra;

/**
 * Rotates the built-in superuser away from its first-boot password, replicates system_auth, and
 * creates the pipeline's role (allowed to create its keyspace, which then belongs to it).
 * Idempotent: a re-run finds the admin password already rotated and logs in with it.
 */
const SECURE_CLUSTER = `set -euo pipefail
cq() { cqlsh "$CASSANDRA_HOST" "$CASSANDRA_PORT" --request-timeout=30 -u "$CASSANDRA_SUPERUSER" "$@"; }
admin_login() { cq -p "$CASSANDRA_ADMIN_PASSWORD" -e 'SELECT release_version FROM system.local' >/dev/null 2>&1; }
fail() { echo "cassandra-auth: $*" >&2; exit 1; }
# Authentication takes a moment after the port opens; retry before giving up.
ready=no
for ((attempt = 1; attempt <= LOGIN_ATTEMPTS; attempt++)); do
  if admin_login; then ready=yes; break; fi
  # Cassandra's built-in role starts with its own name as password until this job rotates it.
  if cq -p "$CASSANDRA_SUPERUSER" -e "ALTER ROLE $CASSANDRA_SUPERUSER WITH PASSWORD = '$CASSANDRA_ADMIN_PASSWORD'" >/dev/null 2>&1; then
    echo "rotated the password of $CASSANDRA_SUPERUSER"; ready=rotated; break
  fi
  echo "waiting for Cassandra authentication (attempt $attempt/$LOGIN_ATTEMPTS)"; sleep 5
done
[ "$ready" != no ] || fail "neither the admin password nor the built-in one logs $CASSANDRA_SUPERUSER in at $CASSANDRA_HOST:$CASSANDRA_PORT after $LOGIN_ATTEMPTS attempts; was the admin password changed outside this deployment?"
# Cassandra serves the old credentials from its auth cache for a while after ALTER ROLE.
if [ "$ready" = rotated ]; then
  for ((attempt = 1; ; attempt++)); do
    admin_login && break
    [ "$attempt" -lt "$AUTH_CACHE_ATTEMPTS" ] || fail "the new admin password is still refused $((AUTH_CACHE_ATTEMPTS * 2)) s after ALTER ROLE"
    echo "new admin password not accepted yet (attempt $attempt/$AUTH_CACHE_ATTEMPTS)"; sleep 2
  done
fi
cq -p "$CASSANDRA_ADMIN_PASSWORD" -e "
  ALTER KEYSPACE system_auth WITH replication = {'class': 'NetworkTopologyStrategy', '$CASSANDRA_DC': $AUTH_REPLICATION};
  CREATE ROLE IF NOT EXISTS $PIPELINE_USER WITH LOGIN = true AND PASSWORD = '$PIPELINE_PASSWORD';
  ALTER ROLE $PIPELINE_USER WITH PASSWORD = '$PIPELINE_PASSWORD';
  GRANT CREATE ON ALL KEYSPACES TO $PIPELINE_USER;" || fail "logged in as $CASSANDRA_SUPERUSER but could not set up system_auth and the role $PIPELINE_USER (see the cqlsh error above)"
echo "cassandra roles ready"
`;

/** Cassandra with authentication on, its roles, and the keyspace/table made by `migrate cassandra`. */
export class Cassandra extends Construct {
  readonly service = 'cassandra';
  /** Comma-separated hosts (CASSANDRA_CONTACT_POINTS). */
  readonly contactPoints: string;
  readonly port = CASSANDRA_PORT;
  readonly localDataCenter: string;
  readonly keyspace: string;
  readonly username: string;
  readonly password: SecretRef;
  /** Keyspace replication matching the nodes this platform runs. */
  readonly replicationFactor: number;
  /** The job that creates keyspace and table; writers wait for it. */
  readonly migrateJob = 'cassandra-migrate';

  constructor(scope: Construct, id: string, props: ComponentProps) {
    super(scope, id);
    const { platform, config } = props;
    const c = config.cassandra;
    const nodes = platform.replicasFor('stateful', c.replicas);
    const peers = Array.from({ length: nodes }, (_, i) => platform.peerHost(this.service, i));
    this.contactPoints = peers.join(',');
    this.localDataCenter = c.dataCenter;
    this.keyspace = c.keyspace;
    this.username = c.pipelineUser;
    this.replicationFactor = effectiveReplication(3, nodes);
    const secret = platform.secret('cassandra', {
      'admin-password': { generate: 'password' },
      'pipeline-password': { generate: 'password' },
    });
    this.password = secret.ref('pipeline-password');
    const image = componentImage(config, 'cassandra', c.image);

    platform.add({
      name: this.service,
      component: 'cassandra',
      kind: 'stateful',
      image,
      // The image has no switch for authentication; flip it in cassandra.yaml before start.
      command: ['bash', '-c',
        'sed -i -e "s/AllowAllAuthenticator/PasswordAuthenticator/" -e "s/AllowAllAuthorizer/CassandraAuthorizer/" ' +
        '/etc/cassandra/cassandra.yaml && exec docker-entrypoint.sh cassandra -f'],
      env: {
        CASSANDRA_CLUSTER_NAME: 'rtdatastream',
        CASSANDRA_DC: c.dataCenter,
        CASSANDRA_RACK: 'rack1',
        CASSANDRA_ENDPOINT_SNITCH: 'GossipingPropertyFileSnitch',
        CASSANDRA_SEEDS: peers.slice(0, Math.min(2, nodes)).join(','),
        MAX_HEAP_SIZE: `${c.resources.heapMiB}M`,
        HEAP_NEWSIZE: `${Math.max(64, Math.round(c.resources.heapMiB / 4))}M`,
      },
      ports: [
        { name: 'cql', containerPort: CASSANDRA_PORT, hostPort: c.hostPort },
        { name: 'intra-node', containerPort: PORTS.cassandraIntraNode },
      ],
      volumes: [{ kind: 'persistent', name: 'data', mountPath: '/var/lib/cassandra', sizeGiB: c.storageGiB }],
      // The CQL port opens only after the node has joined the ring.
      health: { probe: { tcpPort: CASSANDRA_PORT }, startPeriodSeconds: 120, retries: 12 },
      resources: c.resources,
      replicas: c.replicas,
      runAs: { user: 999, group: 999 },
    });

    platform.add({
      name: 'cassandra-auth',
      component: 'cassandra',
      kind: 'job',
      image,
      command: ['bash', '-c', SECURE_CLUSTER],
      env: {
        CASSANDRA_HOST: peers[0],
        CASSANDRA_PORT: String(CASSANDRA_PORT),
        CASSANDRA_SUPERUSER: 'cassandra',
        CASSANDRA_DC: c.dataCenter,
        AUTH_REPLICATION: String(this.replicationFactor),
        PIPELINE_USER: c.pipelineUser,
        // 24 × 5 s for authentication to come up; 30 × 2 s for the auth cache to let the new password in.
        LOGIN_ATTEMPTS: '24',
        AUTH_CACHE_ATTEMPTS: '30',
      },
      secretEnv: {
        CASSANDRA_ADMIN_PASSWORD: secret.ref('admin-password'),
        PIPELINE_PASSWORD: secret.ref('pipeline-password'),
      },
      resources: INIT_JOB_RESOURCES,
      runAs: { user: 999, group: 999 },
      dependsOn: [{ service: this.service, condition: 'healthy' }],
    });

    platform.add({
      name: this.migrateJob,
      component: 'cassandra',
      kind: 'job',
      image: workloadsImage(config),
      args: ['migrate', 'cassandra'],
      env: this.clientEnv(),
      secretEnv: { [ENV.cassandraPassword]: this.password },
      resources: config.workloads.resources,
      runAs: { user: 1000, group: 1000 },
      dependsOn: [{ service: 'cassandra-auth', condition: 'completed' }],
    });
  }

  /** CASSANDRA_* variables of docs/DEVELOPERS.md, password excluded (it is a secret). */
  clientEnv(): Record<string, string> {
    return cassandraClientEnv({
      contactPoints: this.contactPoints, port: this.port, username: this.username, localDataCenter: this.localDataCenter,
      keyspace: this.keyspace, replicationFactor: this.replicationFactor,
    });
  }
}
