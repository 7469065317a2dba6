import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import {
  connectCassandra,
  ensureKeyspace,
  loadMigrations,
  runMigrations,
  type CassandraClient,
} from '@im/platform/cassandra';
import { infraEnvFromProcess, newRunPrefix } from '@im/testing';
import { pino } from 'pino';
import { RefreshTokensTable } from '../src/storage/refresh-tokens.table.js';

const quiet = pino({ level: 'silent' });
const MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));

describe('refresh_tokens (real Cassandra)', () => {
  const keyspace = newRunPrefix('authit').replaceAll('-', '_');
  let db: CassandraClient;

  before(async () => {
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
    db = await connectCassandra({ ...connection, keyspace });
    await runMigrations(db, await loadMigrations(MIGRATIONS), quiet);
  });
  after(async () => {
    await db?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await db?.shutdown();
  });

  it('a spent token expires with its row (a spent mark outliving it made an old token answer 500)', async () => {
    const t = new RefreshTokensTable(db);
    const hash = randomUUID();
    await t.insert(hash, 'session-1', 2);
    const token = await t.get(hash);
    assert.equal(token?.sessionId, 'session-1');
    assert.equal(await t.spend(hash, token!.expiresAt, 'successor-1'), true);
    assert.equal(await t.spend(hash, token!.expiresAt, 'successor-2'), false, 'spent once only');
    assert.equal((await t.get(hash))?.replacedBy, 'successor-1', 'the first spend names the successor');
    await new Promise((r) => setTimeout(r, 3_500));
    assert.equal(await t.get(hash), undefined, 'nothing is left of it');
    const rows = await db.execute('SELECT token_hash FROM refresh_tokens WHERE token_hash = ?', [hash]);
    assert.equal(rows.rowLength, 0, 'not even the spent mark');
  });
});
