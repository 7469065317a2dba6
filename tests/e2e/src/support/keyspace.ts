import type { CassandraClient } from '@im/platform/cassandra';
import { createRegistry } from '@im/platform/registry';
import { connectAdminCassandra, infraEnvFromProcess, type Platform } from '@im/testing';

/** A Cassandra session on a service's keyspace of this platform, to check what it stored. */
export function serviceKeyspace(platform: Platform, service: string): Promise<CassandraClient> {
  return connectAdminCassandra(infraEnvFromProcess(), createRegistry(platform.prefix).keyspace(service));
}
