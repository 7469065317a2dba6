import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Caller } from '@im/proto/common/v1';
import type { PresenceClient } from '../clients/presence.client.js';
import type { NotificationConfig } from '../config.js';
import type { PresenceStatus } from '../domain/notification-rules.js';
import { PresenceCache } from './presence-cache.js';

/** Records every call; answers from a table the test changes. */
function presenceService(table: Record<string, PresenceStatus>) {
  const calls: Array<{ tenantId: string; userIds: string[] }> = [];
  const client = {
    statuses: async (caller: Caller, userIds: readonly string[]) => {
      calls.push({ tenantId: caller.tenantId, userIds: [...userIds] });
      return new Map(userIds.flatMap((u) => (table[u] ? [[u, table[u]] as const] : [])));
    },
  } as unknown as PresenceClient;
  return { client, calls };
}

const cacheOf = (client: PresenceClient, ttlMs: number) =>
  new PresenceCache(client, { NOTIFICATION_PRESENCE_CACHE_MS: ttlMs } as NotificationConfig);
const caller = (tenantId: string): Caller => ({ userId: 'sender', tenantId, sessionId: '' });

describe('presence cache', () => {
  it('asks only for the users it has not seen within the TTL, unknown users read as offline', async () => {
    const table: Record<string, PresenceStatus> = { ana: 'online', bo: 'away' };
    const { client, calls } = presenceService(table);
    const cache = cacheOf(client, 60_000);
    assert.deepEqual(
      [...(await cache.statuses(caller('t1'), ['ana', 'bo', 'cy']))],
      [
        ['ana', 'online'],
        ['bo', 'away'],
        ['cy', 'offline'],
      ],
    );
    table.ana = 'offline';
    const again = await cache.statuses(caller('t1'), ['ana', 'dee']);
    assert.equal(again.get('ana'), 'online', 'served from the cache');
    assert.deepEqual(calls, [
      { tenantId: 't1', userIds: ['ana', 'bo', 'cy'] },
      { tenantId: 't1', userIds: ['dee'] },
    ]);
  });

  it('keeps tenants apart, expires entries, and forgets everything on a rebalance', async () => {
    const { client, calls } = presenceService({ ana: 'online' });
    const cache = cacheOf(client, 30);
    await cache.statuses(caller('t1'), ['ana']);
    await cache.statuses(caller('t2'), ['ana']);
    assert.equal(calls.length, 2, 'another tenant is asked separately');
    await new Promise((r) => setTimeout(r, 40));
    await cache.statuses(caller('t1'), ['ana']);
    assert.equal(calls.length, 3, 'expired');
    cache.forgetAll();
    await cache.statuses(caller('t1'), ['ana']);
    assert.equal(calls.length, 4, 'forgotten');
  });

  it('with a TTL of 0 asks every time', async () => {
    const { client, calls } = presenceService({ ana: 'online' });
    const cache = cacheOf(client, 0);
    assert.equal(cache.enabled, false);
    await cache.statuses(caller('t1'), ['ana']);
    await cache.statuses(caller('t1'), ['ana']);
    assert.equal(calls.length, 2);
  });
});
