import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { CassandraClient } from '@im/platform/cassandra';
import { AppError } from '@im/platform/errors';
import { RecentRevocationsTable } from '../src/storage/recent-revocations.table.js';
import { authKeyspace } from './keyspace.js';

describe('revocations_by_minute (real Cassandra)', () => {
  let db: CassandraClient;
  let drop: () => Promise<void>;

  before(async () => {
    ({ db, drop } = await authKeyspace());
  });
  after(() => drop?.());

  it('pages every revocation of the window exactly once, across minutes, and none older', async () => {
    const t = new RecentRevocationsTable(db);
    const ids = Array.from({ length: 5 }, () => randomUUID());
    for (const sessionId of ids)
      await t.add({ sessionId, userId: 'u1', reason: 'logout', expiresAt: new Date().toISOString() }, 960);
    // two earlier minutes: one inside a 10-minute window, one outside it
    const insert = (minutesAgo: number, sessionId: string) =>
      db.execute(
        'INSERT INTO revocations_by_minute (minute, session_id, user_id, reason) VALUES (?, ?, ?, ?)',
        [new Date(Math.floor(Date.now() / 60_000) * 60_000 - minutesAgo * 60_000), sessionId, 'u2', 'admin'],
      );
    const inside = randomUUID();
    const outside = randomUUID();
    await insert(3, inside);
    await insert(30, outside);

    const seen: string[] = [];
    let token = '';
    let pages = 0;
    do {
      const page = await t.page(token, 600, 2);
      seen.push(...page.revocations.map((r) => r.sessionId));
      token = page.nextPageToken;
      pages++;
    } while (token && pages < 10);
    assert.deepEqual([...seen].sort(), [...ids, inside].sort());
    assert.ok(pages >= 3, `paged (${pages} pages of at most 2)`);
    const first = await t.page('', 600, 100);
    assert.equal(first.revocations.find((r) => r.sessionId === ids[0])?.reason, 'logout');
  });

  it('refuses a page token it did not make', async () => {
    const t = new RecentRevocationsTable(db);
    for (const bad of [
      'x',
      Buffer.from('[1,2]').toString('base64url'),
      Buffer.from('{}').toString('base64url'),
    ])
      await assert.rejects(
        t.page(bad, 600, 10),
        (e: unknown) => e instanceof AppError && e.code === 'invalid_argument',
      );
  });
});
