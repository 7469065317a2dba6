import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  connectCassandra,
  ensureKeyspace,
  executeBatched,
  type CassandraClient,
} from '../src/cassandra/index.js';
import { infra, quietLogger, uniquePrefix } from './env.js';

describe('cassandra client (real server)', () => {
  let client: CassandraClient;

  before(async () => {
    const i = infra();
    client = await connectCassandra({
      contactPoints: i.cassandraContactPoints,
      localDataCenter: i.cassandraLocalDc,
      username: i.cassandraUsername,
      password: i.cassandraPassword,
      logger: quietLogger,
      consistency: 'LOCAL_ONE',
    });
  });
  const keyspace = uniquePrefix('burst').replaceAll('-', '_');
  after(async () => {
    await client?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await client?.shutdown();
  });

  it('queues a burst larger than the pool takes (2 connections × 2048) instead of failing it', async () => {
    // the driver alone answers BusyConnectionError past 4096 requests in flight
    const burst = 6_000;
    const rows = await Promise.all(
      Array.from({ length: burst }, () => client.execute('SELECT release_version FROM system.local')),
    );
    assert.equal(rows.length, burst);
    assert.ok(rows.every((r) => r.rowLength === 1));
  });

  it('and so does a batch split into more chunks than the pool takes', async () => {
    await ensureKeyspace(client, keyspace, '1');
    await client.execute(`CREATE TABLE IF NOT EXISTS ${keyspace}.rows (k int PRIMARY KEY, v text)`);
    const rows = 50_000; // 5 000 unlogged batches of 10, all sent at once by executeBatched
    await executeBatched(
      client,
      Array.from({ length: rows }, (_, k) => ({
        query: `INSERT INTO ${keyspace}.rows (k, v) VALUES (?, ?)`,
        params: [k, 'x'],
      })),
    );
    const count = (await client.execute(`SELECT COUNT(*) AS n FROM ${keyspace}.rows`)).first();
    assert.equal(Number(count.get('n')), rows);
  });
});
