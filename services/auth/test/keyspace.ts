import { fileURLToPath } from 'node:url';
import {
  connectCassandra,
  ensureKeyspace,
  loadMigrations,
  runMigrations,
  type CassandraClient,
} from '@im/platform/cassandra';
import { infraEnvFromProcess, newRunPrefix } from '@im/testing';
import { pino } from 'pino';

const quiet = pino({ level: 'silent' });
const MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));

/** A keyspace of its own with auth's migrations, on the run's Cassandra; drop() removes it. */
export async function authKeyspace(): Promise<{ db: CassandraClient; drop(): Promise<void> }> {
  const keyspace = newRunPrefix('authit').replaceAll('-', '_');
  const env = infraEnvFromProcess();
  const connection = {
    contactPoints: env.CASSANDRA_CONTACT_POINTS!.split(','),
    localDataCenter: env.CASSANDRA_LOCAL_DC ?? 'datacenter1',
    username: env.CASSANDRA_USERNAME,
    password: env.CASSANDRA_PASSWORD,
    consistency: 'LOCAL_ONE' as const,
    logger: quiet,
  };
  const admin = await connectCassandra(connection);
  await ensureKeyspace(admin, keyspace, '1');
  await admin.shutdown();
  const db = await connectCassandra({ ...connection, keyspace });
  await runMigrations(db, await loadMigrations(MIGRATIONS), quiet);
  return {
    db,
    drop: async () => {
      await db.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
      await db.shutdown();
    },
  };
}
