import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Presence } from '@im/proto/client/v1';
import { ApiError, ImClient, ImSocket, type ServerFrame, type ServerFrameOf } from '@im/sdk';
import { openKv } from '@im/platform/nats';
import { createRegistry } from '@im/platform/registry';
import { eventually, Platform, sleep } from '@im/testing';
import { runnerNats } from './support/nats.js';
import { closeAll, registerUsers } from './support/users.js';

// Short bounds for the test; production defaults: lease TTL 15 s, renew 5 s, grace 5 s, throttle 2 s.
const LEASE_TTL_MS = 3_000;
const GRACE_MS = 1_000;
const THROTTLE_MS = 1_500;

const presenceOf =
  (userId: string, status?: string) =>
  (f: ServerFrame): f is ServerFrameOf<'presence'> =>
    f.type === 'presence' && f.userId === userId && (status === undefined || f.status === status);

describe('presence and typing', () => {
  let platform: Platform;

  before(async () => {
    platform = await Platform.start({
      gateways: 2,
      env: {
        presence: {
          GATEWAY_LEASE_TTL_MS: String(LEASE_TTL_MS),
          PRESENCE_OFFLINE_GRACE_MS: String(GRACE_MS),
          PRESENCE_SWEEP_INTERVAL_MS: '5000',
          TYPING_THROTTLE_MS: String(THROTTLE_MS),
        },
        gateway: { GATEWAY_LEASE_RENEW_MS: '500' },
      },
    });
  });
  after(() => platform?.stop());

  /**
   * A marker for absence checks: a beacon user (of the watcher's tenant, on gateway 0) changes status and the watcher
   * waits for that event. Anything the platform decided before (on the same gateway and presence
   * path) reached the watcher before it, so what has not arrived by then was never sent.
   */
  async function marker(watcher: ImSocket, watching: string[], tenant?: string): Promise<number> {
    const [beacon] = await registerUsers(platform, 1, 'beacon', tenant);
    // presence.subscribe replaces the socket's set: keep watching what it watched
    await watcher.request('presence.subscribe', { userIds: [...watching, beacon!.user.id] });
    const device = await beacon!.connect();
    await device.request('presence.set', { status: 'busy' });
    const ev = await watcher.waitFor(presenceOf(beacon!.user.id, 'busy'));
    await device.close();
    return watcher.events.indexOf(ev);
  }

  async function watcherOf(
    userId: string,
    gw = 0,
  ): Promise<{ client: ImClient; socket: ImSocket; initial: Presence[] }> {
    const [client] = await registerUsers(platform, 1, 'watcher', undefined, gw);
    const socket = await client!.connect();
    const ack = await socket.request('presence.subscribe', { userIds: [userId] });
    return { client: client!, socket, initial: ack.presence ?? [] };
  }

  it('two devices: online while either is connected, offline within the bound after both close, with lastSeenAt', async () => {
    const [user] = await registerUsers(platform, 1, 'twodev');
    const w = await watcherOf(user!.user.id);
    assert.deepEqual(w.initial, [{ userId: user!.user.id, status: 'offline' }]);

    const d1 = await user!.connect();
    await w.socket.waitFor(presenceOf(user!.user.id, 'online'), 3_000);
    const onGw1 = new ImClient(platform.gatewayUrl(1));
    onGw1.session = user!.session;
    const d2 = await onGw1.connect();
    const mark = w.socket.events.length;
    await d1.close();
    await sleep(GRACE_MS + 1_000); // past the grace after which an offline would be announced
    const end = await marker(w.socket, [user!.user.id]);
    assert.deepEqual(
      w.socket.events.slice(mark, end).filter(presenceOf(user!.user.id)),
      [],
      'still online: the other device is connected',
    );

    const t0 = Date.now();
    await d2.close();
    const offline = await w.socket.waitFor(presenceOf(user!.user.id, 'offline'), 5_000);
    const took = Date.now() - t0;
    assert.ok(
      took <= GRACE_MS + 1_500,
      `offline announced ${took} ms after the last device left (grace ${GRACE_MS} ms)`,
    );
    assert.ok(
      Math.abs(Date.parse(offline.lastSeenAt as string) - Date.now()) < 10_000,
      'lastSeenAt is set and recent',
    );
    const rest = await w.client.presence([user!.user.id]);
    assert.equal(rest.presence[0]!.status, 'offline');
    assert.equal(rest.presence[0]!.lastSeenAt, offline.lastSeenAt);
    await w.socket.close();
  });

  it('kill -9 of a gateway: its users go offline within the lease bound, and come back when they reconnect elsewhere', async () => {
    const doomed = await platform.startGateway({ GATEWAY_LEASE_RENEW_MS: '500' });
    const [user] = await registerUsers(platform, 1, 'ghost');
    const w = await watcherOf(user!.user.id);
    const socket = await ImSocket.connect(
      `ws://${doomed.address('publicPort')}/v1/ws`,
      user!.session!.accessToken,
    );
    await w.socket.waitFor(presenceOf(user!.user.id, 'online'), 3_000);

    const t0 = Date.now();
    await doomed.kill();
    await w.socket.waitFor(presenceOf(user!.user.id, 'offline'), LEASE_TTL_MS + GRACE_MS + 8_000);
    const took = Date.now() - t0;
    assert.ok(
      took <= LEASE_TTL_MS + GRACE_MS + 3_000,
      `offline ${took} ms after the gateway died (bound: lease ${LEASE_TTL_MS} + grace ${GRACE_MS} ms + detection)`,
    );
    await socket.closed;

    const mark = w.socket.events.length;
    const again = await user!.connect();
    await w.socket.waitFor(
      (f) => presenceOf(user!.user.id, 'online')(f) && w.socket.events.indexOf(f) >= mark,
      3_000,
    );
    await closeAll([again, w.socket]);
  });

  it('busy chosen on one device survives the other device reconnecting; invisible reads as offline', async () => {
    const [user] = await registerUsers(platform, 1, 'busy');
    const w = await watcherOf(user!.user.id);
    const [d1, d2] = await Promise.all([user!.connect(), user!.connect()]);
    await w.socket.waitFor(presenceOf(user!.user.id, 'online'), 3_000);

    await d1.request('presence.set', { status: 'busy', statusText: 'in a meeting' });
    const busy = await w.socket.waitFor(presenceOf(user!.user.id, 'busy'), 3_000);
    assert.equal(busy.statusText, 'in a meeting');

    const mark = w.socket.events.length;
    await d2.close();
    const d2again = await user!.connect();
    await sleep(GRACE_MS + 800); // past the grace of the closed device
    const end = await marker(w.socket, [user!.user.id]);
    assert.deepEqual(
      w.socket.events
        .slice(mark, end)
        .filter((f) => f.type === 'presence' && f.userId === user!.user.id && f.status !== 'busy'),
      [],
    );
    assert.equal((await w.client.presence([user!.user.id])).presence[0]!.status, 'busy');

    await d2again.request('presence.set', { status: 'offline' });
    await w.socket.waitFor(
      (f) => presenceOf(user!.user.id, 'offline')(f) && w.socket.events.indexOf(f) >= mark,
      3_000,
    );
    await d1.request('presence.set', { status: 'online' });
    await w.socket.waitFor(
      (f) => presenceOf(user!.user.id, 'online')(f) && w.socket.events.indexOf(f) >= mark,
      3_000,
    );
    await closeAll([d1, d2again, w.socket]);
  });

  it('away: announced to watchers, served over REST, and replaced when the user is back', async () => {
    const [user] = await registerUsers(platform, 1, 'away');
    const w = await watcherOf(user!.user.id);
    const d = await user!.connect();
    await w.socket.waitFor(presenceOf(user!.user.id, 'online'));
    await d.request('presence.set', { status: 'away' });
    const away = await w.socket.waitFor(presenceOf(user!.user.id, 'away'));
    assert.equal((await w.client.presence([user!.user.id])).presence[0]!.status, 'away');
    await d.request('presence.set', { status: 'online' });
    await w.socket.waitFor(
      (f) =>
        presenceOf(user!.user.id, 'online')(f) && w.socket.events.indexOf(f) > w.socket.events.indexOf(away),
    );
    const twice = w.socket.events.filter(presenceOf(user!.user.id, 'online'));
    assert.equal(twice.length, 2, 'online, away, online again');
    await closeAll([d, w.socket]);
  });

  it('presence is per tenant: another tenant sees offline and gets no events', async () => {
    const [user] = await registerUsers(platform, 1, 'tenanta');
    const [stranger] = await registerUsers(platform, 1, 'tenantb', `other-${randomUUID().slice(0, 8)}`);
    const s = await stranger!.connect();
    const ack = await s.request('presence.subscribe', { userIds: [user!.user.id] });
    assert.deepEqual(ack.presence, [{ userId: user!.user.id, status: 'offline' }]);
    const d = await user!.connect();
    const end = await marker(s, [user!.user.id], stranger!.tenant);
    assert.deepEqual(
      s.events.slice(0, end).filter((f) => f.type === 'presence'),
      [],
      "no event about the other tenant's user",
    );
    await closeAll([d, s]);
  });

  it('typing reaches the other members on every gateway, not the typist’s devices nor outsiders, throttled', async () => {
    const [alice, bob, carol, dan] = await registerUsers(platform, 4, 'typing');
    const conv = await alice!.createConversation('group', [bob!.user.id, dan!.user.id], 'typing');
    const bobOnGw1 = new ImClient(platform.gatewayUrl(1));
    bobOnGw1.session = bob!.session;
    const [a1, a2, b, c, d] = await Promise.all([
      alice!.connect(),
      alice!.connect(),
      bobOnGw1.connect(),
      carol!.connect(),
      dan!.connect(),
    ]);
    const typingOf = (s: ImSocket, userId: string) =>
      s.events.filter((f) => f.type === 'typing' && f.userId === userId);

    // the throttle interval starts once the first notice is accepted, so no earlier than this
    // (taken after its delivery, a slow delivery made the interval look short)
    const firstAt = Date.now();
    await a1.request('typing', { conversationId: conv.id });
    const ev = await b.waitFor('typing', () => true, 3_000);
    assert.deepEqual(
      { conversationId: ev.conversationId, userId: ev.userId },
      { conversationId: conv.id, userId: alice!.user.id },
    );
    await a1.request('typing', { conversationId: conv.id });
    await a1.request('typing', { conversationId: conv.id });
    // marker: dan's notice travels the same path after alice's repeats, on both gateways
    await d.request('typing', { conversationId: conv.id });
    await b.waitFor('typing', (f) => f.userId === dan!.user.id);
    await a2.waitFor('typing', (f) => f.userId === dan!.user.id);
    assert.equal(typingOf(b, alice!.user.id).length, 1, 'repeats within the throttle interval are dropped');
    assert.equal(typingOf(a2, alice!.user.id).length, 0, "the typist's other devices are not told");
    assert.equal(c.events.filter((f) => f.type === 'typing').length, 0, 'non-members are not told');

    // typing again until a notice goes out: it does once the interval has passed, not before
    await eventually(
      async () => {
        await a2.request('typing', { conversationId: conv.id });
        const next = (f: ServerFrameOf<'typing'>) => f.userId === alice!.user.id && f !== ev;
        await b.waitFor('typing', next, 300).catch(() => undefined);
        assert.equal(typingOf(b, alice!.user.id).length, 2);
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'the next notice after the throttle interval' },
    );
    assert.ok(
      Date.now() - firstAt >= THROTTLE_MS - 100,
      `the second notice went out ${Date.now() - firstAt} ms after the first (throttle ${THROTTLE_MS} ms)`,
    );
    await closeAll([a1, a2, b, c, d]);
  });

  it('presence.subscribe is throttled per socket: past the burst it is refused with a retry hint and the watched set stays', async () => {
    const [watcherUser, a, b] = await registerUsers(platform, 3, 'subthrottle');
    const s = await watcherUser!.connect();
    try {
      for (let i = 0; i < 5; i++) await s.request('presence.subscribe', { userIds: [a!.user.id] });
      const refused = await s.request('presence.subscribe', { userIds: [b!.user.id] }).then(
        () => undefined,
        (e: unknown) => e as ApiError,
      );
      assert.equal(refused?.code, 'rate_limited');
      assert.ok(refused.retryAfterMs! > 0 && refused.retryAfterMs! <= 2_000, String(refused.retryAfterMs));
      // the refused one changed nothing: b comes online unwatched, a is still watched
      const bDevice = await b!.connect();
      await sleep(1_000);
      const device = await a!.connect();
      await device.request('presence.set', { status: 'busy' });
      await s.waitFor(presenceOf(a!.user.id, 'busy'), 5_000);
      await device.close();
      assert.ok(!s.events.some(presenceOf(b!.user.id)), 'b was never watched');
      await bDevice.close();
      await sleep(refused.retryAfterMs!);
      const ack = await s.request('presence.subscribe', { userIds: [b!.user.id] });
      assert.deepEqual(
        ack.presence?.map((p) => p.userId),
        [b!.user.id],
      );
    } finally {
      await s.close();
    }
  });

  /** The message service's membership reads from the database so far, by kind (its /metrics). */
  async function membershipReads(): Promise<Record<string, number>> {
    const port = platform.services.get('message')!.ports.httpPort!;
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const out: Record<string, number> = { membership: 0, conversation_set: 0 };
    for (const m of text.matchAll(/^im_membership_reads_total\{[^}]*kind="(\w+)"[^}]*\} (\d+)/gm))
      out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
    return out;
  }

  it('typing into many unknown conversations costs no membership read each, and is cut off after a burst; others are not affected', async () => {
    const [prober, other] = await registerUsers(platform, 2, 'typeprobe');
    const conv = await other!.createConversation('group', [prober!.user.id], 'typing probe');
    const s = await prober!.connect();
    const readsBefore = await membershipReads();
    try {
      // 10 at once, then 2 per second: type into unknown conversations until refused
      const started = Date.now();
      const codes: string[] = [];
      while (codes.length < 40 && !codes.includes('rate_limited'))
        codes.push(
          await s.request('typing', { conversationId: randomUUID() }).then(
            () => 'ok',
            (e: unknown) => (e instanceof ApiError ? e.code : String(e)),
          ),
        );
      const refills = Math.ceil(((Date.now() - started) / 1000) * 2);
      const before = codes.slice(0, -1);
      assert.equal(codes.at(-1), 'rate_limited', codes.join());
      assert.ok(
        before.every((c) => c === 'not_found'),
        codes.join(),
      );
      assert.ok(
        before.length >= 10 && before.length <= 10 + refills,
        `${before.length} lookups, ${refills} refills`,
      );
      // the prober's set of conversations is read (again every 5 s at most); no id is read alone
      const reads = await membershipReads();
      assert.equal(reads.membership, readsBefore.membership, 'no membership read per unknown id');
      const setReads = reads.conversation_set! - readsBefore.conversation_set!;
      const seconds = (Date.now() - started) / 1000;
      assert.ok(
        setReads >= 1 && setReads <= 1 + Math.ceil(seconds / 5),
        `${setReads} set reads in ${seconds} s`,
      );
      // another user types on as usual
      const o = await other!.connect();
      await o.request('typing', { conversationId: conv.id });
      await s.waitFor('typing', (f) => f.userId === other!.user.id, 3_000);
      await o.close();
    } finally {
      await s.close();
    }
  });

  it('bad input: unknown status, oversized status text, typing where one is not a member, too many watched users', async () => {
    const [user, other] = await registerUsers(platform, 2, 'badpres');
    const conv = await other!.createConversation('group', [], 'not yours');
    const s = await user!.connect();
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: unknown) => (e instanceof ApiError ? e.code : String(e)),
      );
    assert.equal(await code(s.request('presence.set', { status: 'sleeping' })), 'invalid_argument');
    assert.equal(
      await code(s.request('presence.set', { status: 'busy', statusText: 'x'.repeat(141) })),
      'invalid_argument',
    );
    assert.equal(await code(s.request('typing', { conversationId: conv.id })), 'not_found');
    assert.equal(await code(s.request('typing', { conversationId: randomUUID() })), 'not_found');
    assert.equal(await code(s.request('typing', { conversationId: 'not an id!' })), 'invalid_argument');
    assert.equal(
      await code(
        s.request('presence.subscribe', { userIds: Array.from({ length: 501 }, () => randomUUID()) }),
      ),
      'invalid_argument',
    );
    const rest = await user!
      .call('GET', `/v1/presence?userIds=${Array.from({ length: 201 }, () => randomUUID()).join(',')}`)
      .then(
        () => 'ok',
        (e: unknown) => (e instanceof ApiError ? `${e.status} ${e.code}` : String(e)),
      );
    assert.equal(rest, '400 invalid_argument');
    assert.ok(s.isOpen);
    await eventually(
      async () => assert.equal((await user!.presence([user!.user.id])).presence[0]!.status, 'online'),
      {
        timeoutMs: 3_000,
        what: 'the connected user is online; the bad requests changed nothing',
      },
    );
    await s.close();
  });

  it('a connection storm (20 users × 50 sockets at once, then all dropped): presence is right again, no record keeps a device, the bucket goes quiet', async () => {
    const USERS = 20;
    const DEVICES = 50; // the gateway's default per-user socket cap
    const [observer, ...users] = await registerUsers(platform, USERS + 1, 'storm');
    const ids = users.map((u) => u.user.id);
    const allAre = (status: string) =>
      eventually(
        async () => {
          const { presence } = await observer!.presence(ids);
          assert.deepEqual(
            presence.filter((p) => p.status !== status).map((p) => p.userId),
            [],
          );
        },
        { timeoutMs: 30_000, intervalMs: 250, what: `all ${USERS} users ${status}` },
      );

    const sockets: ImSocket[] = [];
    const devices = users.flatMap((u) => Array.from({ length: DEVICES }, () => u));
    for (let i = 0; i < devices.length; i += 250)
      sockets.push(...(await Promise.all(devices.slice(i, i + 250).map((u) => u.connect()))));
    await allAre('online');
    await closeAll(sockets);
    await allAre('offline');

    // every close was applied: the users' records list no device (the storm left 50 each before
    // per-user coalescing), and nothing keeps rewriting them (it once retried for minutes)
    const nats = await runnerNats('e2e-presence-storm');
    try {
      const bucket = createRegistry(platform.prefix).buckets.presence;
      const kv = await openKv(nats, bucket, { history: 1 });
      for (const id of ids) {
        const e = await kv.get(`u.${id}`);
        const record = e?.operation === 'PUT' ? e.json<{ devices: Record<string, number> }>() : undefined;
        assert.deepEqual(Object.keys(record?.devices ?? {}), [], `devices still listed for ${id}`);
      }
      let writes = 0;
      const subs = ids.map((id) =>
        nats.subscribe(`$KV.${bucket}.u.${id}`, {
          callback: () => {
            writes++;
          },
        }),
      );
      await sleep(3_000);
      for (const sub of subs) sub.unsubscribe();
      assert.equal(writes, 0, 'writes to the users’ records after presence was right');
    } finally {
      await nats.close();
    }
  });
});
