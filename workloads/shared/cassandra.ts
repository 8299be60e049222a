import { auth, Client, ClientOptions } from 'cassandra-driver';
import { CassandraConfig } from './config';

/**
 * The one way the project builds a Cassandra client: the migration, the local services, the
 * local pipeline, the bench and the tests. `options` adds timeouts or pooling for the caller.
 */
export function cassandraClient(cfg: CassandraConfig, options: Omit<ClientOptions, 'contactPoints' | 'localDataCenter' | 'authProvider'> = {}): Client {
  return new Client({
    ...options,
    contactPoints: [...cfg.contactPoints],
    protocolOptions: { ...options.protocolOptions, port: cfg.port },
    localDataCenter: cfg.localDataCenter,
    authProvider: cfg.username ? new auth.PlainTextAuthProvider(cfg.username, cfg.password ?? '') : undefined,
  });
}
