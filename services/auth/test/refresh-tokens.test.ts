import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { CassandraClient } from '@im/platform/cassandra';
import { RefreshTokensTable } from '../src/storage/refresh-tokens.table.js';
import { authKeyspace } from './keyspace.js';

describe('refresh_tokens (real Cassandra)', () => {
  let db: CassandraClient;
  let drop: () => Promise<void>;

  before(async () => {
    ({ db, drop } = await authKeyspace());
  });
  after(() => drop?.());

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
