import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { PresenceConfig } from '../config.js';
import type { PresencePublisher } from '../producers/presence-publisher.js';
import type { GatewayLeases } from '../storage/gateway-leases.js';
import type { PresenceKv } from '../storage/presence-kv.js';
import { PresenceService } from './presence.service.js';
import type { UserPresence } from './presence-rules.js';

/** An in-memory presence bucket whose first device indexing waits until released. */
function memoryStore() {
  const users = new Map<string, UserPresence>();
  const unindexed: string[] = [];
  let release!: () => void;
  const indexing = new Promise<void>((r) => (release = r));
  let calls = 0;
  const store = {
    indexDevice: async () => {
      if (calls++ === 0) await indexing;
      return 1;
    },
    unindexDevice: async (gw: string, userId: string, deviceId: string) => {
      unindexed.push(`${gw}/${userId}/${deviceId}`);
    },
    getMany: async (userIds: string[]) =>
      new Map(userIds.flatMap((u) => (users.has(u) ? [[u, users.get(u)!]] : []))),
    update: async (
      userId: string,
      init: () => UserPresence,
      change: (p: UserPresence) => UserPresence | undefined,
    ) => {
      const before = users.get(userId);
      const next = change(structuredClone(before ?? init()));
      if (next) users.set(userId, next);
      return { before, after: next ?? before ?? init() };
    },
  };
  return { store: store as unknown as PresenceKv, users, release, unindexed };
}

const device = { userId: 'u1', tenantId: 't', sessionId: 's1', at: '2026-12-05T00:00:00Z' };

function service(store: PresenceKv): PresenceService {
  const config = { PRESENCE_OFFLINE_GRACE_MS: 0, PRESENCE_SWEEP_INTERVAL_MS: 60_000 } as PresenceConfig;
  const publisher = { publish: async () => undefined } as unknown as PresencePublisher;
  return new PresenceService(store, {} as GatewayLeases, publisher, config, pino({ level: 'silent' }));
}

describe('PresenceService.devicesChanged', () => {
  it('a report the gateway stopped waiting for changes nothing, so its resent copy decides', async () => {
    const { store, users, release } = memoryStore();
    const presence = service(store);
    let late = false;
    const first = presence.devicesChanged('gw', [device], [], () => late);
    // the gateway's deadline passes while the first report is still indexing; it sends the
    // connect again with the disconnect that followed, which lands first
    late = true;
    await presence.devicesChanged('gw', [device], [device]);
    assert.deepEqual(users.get('u1')?.devices, {});
    release();
    await assert.rejects(first, /too late/);
    assert.deepEqual(users.get('u1')?.devices, {}, 'the closed socket is not online');
  });

  it('a connect that lands after its socket’s disconnect (its report passed the deadline check just in time, on another replica) leaves it closed', async () => {
    const { store, users, release, unindexed } = memoryStore();
    const presence = service(store);
    const first = presence.devicesChanged('gw', [device], [], () => false);
    await presence.devicesChanged('gw', [device], [device]);
    release();
    await first;
    assert.deepEqual(users.get('u1')?.devices, {}, 'the closed socket is not online');
    assert.deepEqual(Object.keys(users.get('u1')?.closed ?? {}), ['gw/s1']);
    assert.deepEqual(
      unindexed,
      ['gw/u1/s1', 'gw/u1/s1'],
      'its index entry, made again by the late report, is gone too',
    );
  });

  it('a report in time is applied', async () => {
    const { store, users, release } = memoryStore();
    release();
    await service(store).devicesChanged('gw', [device], [], () => false);
    assert.equal(Object.keys(users.get('u1')?.devices ?? {}).length, 1);
  });
});
