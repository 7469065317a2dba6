import { CASSANDRA_SERVICES, connectCassandra } from '@im/platform/cassandra';
import { createLogger } from '@im/platform/logging';
import { createRegistry } from '@im/platform/registry';

/**
 * Drops the keyspaces of a name prefix's services, with the infrastructure's admin login from
 * `env`. A Cassandra that keeps the thousands of tables earlier suites made spends about twice the
 * CPU per request (docs/benchmarks.md), which slows every suite after them.
 */
export async function dropPrefixKeyspaces(env: Record<string, string>, prefix: string): Promise<void> {
  const client = await connectCassandra({
    contactPoints: (env.CASSANDRA_CONTACT_POINTS ?? '').split(','),
    localDataCenter: env.CASSANDRA_LOCAL_DC ?? 'datacenter1',
    username: env.CASSANDRA_USERNAME,
    password: env.CASSANDRA_PASSWORD,
    consistency: 'LOCAL_ONE',
    logger: createLogger('test-cleanup', 'silent'),
  });
  try {
    const names = createRegistry(prefix);
    for (const service of CASSANDRA_SERVICES)
      await client.execute(`DROP KEYSPACE IF EXISTS ${names.keyspace(service)}`, [], { prepare: false });
  } finally {
    await client.shutdown();
  }
}
