import { connectCassandra, type CassandraClient } from '@im/platform/cassandra';
import { createRegistry } from '@im/platform/registry';
import { infraEnvFromProcess, type Platform } from '@im/testing';
import { pino } from 'pino';

/** A Cassandra session on a service's keyspace of this platform, to check what it stored. */
export function serviceKeyspace(platform: Platform, service: string): Promise<CassandraClient> {
  const infra = infraEnvFromProcess();
  return connectCassandra({
    contactPoints: infra.CASSANDRA_CONTACT_POINTS!.split(','),
    localDataCenter: infra.CASSANDRA_LOCAL_DC ?? 'datacenter1',
    username: infra.CASSANDRA_USERNAME,
    password: infra.CASSANDRA_PASSWORD,
    keyspace: createRegistry(platform.prefix).keyspace(service),
    consistency: 'LOCAL_ONE',
    logger: pino({ level: 'silent' }),
  });
}
