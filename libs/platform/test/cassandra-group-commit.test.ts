import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  connectCassandra,
  ensureKeyspace,
  GroupedWrites,
  type CassandraClient,
  type Statement,
} from '../src/cassandra/index.js';
import { infra, quietLogger, uniquePrefix } from './env.js';

describe('grouped writes (real Cassandra)', () => {
  let client: CassandraClient;
  const keyspace = uniquePrefix('grouped').replaceAll('-', '_');

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
    await ensureKeyspace(client, keyspace, '1');
    await client.execute(`CREATE TABLE IF NOT EXISTS ${keyspace}.rows (k int PRIMARY KEY, v text)`);
  });
  after(async () => {
    await client?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await client?.shutdown();
  });

  /** The real client, counting the requests it is asked for. */
  function counted(): { db: CassandraClient; requests: () => number } {
    let n = 0;
    const db = Object.create(client) as CassandraClient;
    db.execute = ((...args: Parameters<CassandraClient['execute']>) => {
      n++;
      return client.execute(...args);
    }) as CassandraClient['execute'];
    db.batch = ((...args: Parameters<CassandraClient['batch']>) => {
      n++;
      return client.batch(...args);
    }) as CassandraClient['batch'];
    return { db, requests: () => n };
  }

  const insert = (k: number, v = `v${k}`): Statement => ({
    query: `INSERT INTO ${keyspace}.rows (k, v) VALUES (?, ?)`,
    params: [k, v],
  });
  const stored = async (ks: readonly number[]): Promise<Map<number, string>> => {
    const rs = await client.execute(`SELECT k, v FROM ${keyspace}.rows WHERE k IN ?`, [ks], {
      prepare: true,
    });
    return new Map(rs.rows.map((r) => [Number(r.get('k')), String(r.get('v'))]));
  };

  it('stores the writes of 200 concurrent callers in a few requests, each caller answered once stored', async () => {
    const { db, requests } = counted();
    const writes = new GroupedWrites(db, { maxStatements: 50, maxBytes: 40_000 });
    const keys = Array.from({ length: 200 }, (_, i) => 1_000 + i * 2);
    await Promise.all(
      keys.map(async (k) => {
        await writes.write([insert(k), insert(k + 1)]);
        const mine = await stored([k, k + 1]);
        assert.equal(mine.size, 2, `caller ${k} answered before its rows were stored`);
      }),
    );
    assert.equal((await stored(keys.flatMap((k) => [k, k + 1]))).size, 400);
    assert.ok(requests() <= 8, `400 statements of 200 callers took ${requests()} requests`);
  });

  it('sends what arrives while a group is in flight together, as the next group', async () => {
    const { db, requests } = counted();
    const writes = new GroupedWrites(db, { maxStatements: 50, maxBytes: 40_000 });
    const first = writes.write([insert(5_000)]);
    await new Promise((r) => setImmediate(r)); // the first group is now in flight
    const later = [writes.write([insert(5_001)]), writes.write([insert(5_002), insert(5_003)])];
    await Promise.all([first, ...later]);
    assert.equal(requests(), 2);
    assert.equal((await stored([5_000, 5_001, 5_002, 5_003])).size, 4);
  });

  it('fails only the caller whose write Cassandra refuses; the others in its group are stored', async () => {
    const writes = new GroupedWrites(client, { maxStatements: 50, maxBytes: 40_000 });
    const bad: Statement = { query: `INSERT INTO ${keyspace}.no_such_table (k) VALUES (?)`, params: [1] };
    const results = await Promise.allSettled([
      writes.write([insert(6_000)]),
      writes.write([insert(6_001), bad]),
      writes.write([insert(6_002)]),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.match(String((results[1] as PromiseRejectedResult).reason), /no_such_table|unconfigured/i);
    assert.deepEqual([...(await stored([6_000, 6_001, 6_002])).keys()].sort(), [6_000, 6_002]);
    await assert.rejects(writes.write([bad]), /no_such_table|unconfigured/i, 'alone, it fails too');
    await writes.write([insert(6_003)]);
    assert.ok((await stored([6_003])).has(6_003), 'and the writer goes on');
  });

  it('splits a large group under the batch size limits', async () => {
    const { db, requests } = counted();
    const writes = new GroupedWrites(db, { maxStatements: 50, maxBytes: 40_000 });
    const big = 'x'.repeat(4_000); // ten of these fill a batch
    const keys = Array.from({ length: 60 }, (_, i) => 7_000 + i);
    await Promise.all(keys.map((k) => writes.write([insert(k, big)])));
    assert.equal((await stored(keys)).size, 60);
    // ~4 KB each: 9 to a batch under 40 KB, so 7 batches, none refused and retried
    assert.equal(requests(), 7);
  });
});
