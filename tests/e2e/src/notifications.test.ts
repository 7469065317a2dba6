import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ImClient } from '@im/sdk';
import { eventually, Platform, sleep } from '@im/testing';
import { outcome } from './support/outcome.js';
import { LocalPushService, type ReceivedPush } from '@im/testing';
import { registerUsers } from './support/users.js';

const WINDOW_MS = 1_500;
/** After a control member's push arrived, any other push of the same flush has arrived too. */
const SETTLE_MS = 1_500;

interface Device {
  id: string;
  platform: string;
  subscription?: { endpoint: string };
}

describe('push notifications (Web Push, local push service)', () => {
  let platform: Platform;
  const pushService = new LocalPushService();

  before(async () => {
    await pushService.start();
    platform = await Platform.start({
      env: {
        notification: {
          WEBPUSH_ALLOW_HTTP_LOOPBACK: 'true',
          NOTIFICATION_BATCH_WINDOW_MS: String(WINDOW_MS),
          NOTIFICATION_TTL_SECONDS: '3600',
        },
      },
    });
  });
  after(async () => {
    await platform?.stop();
    await pushService.stop();
  });

  /** Registers a Web Push subscription of the local push service for the user's session. */
  async function subscribe(user: ImClient): Promise<{ subscriptionId: string; device: Device }> {
    const sub = pushService.subscribe();
    const device = await user.call<Device>('POST', '/v1/devices', {
      platform: 'webpush',
      subscription: { endpoint: sub.endpoint, keys: sub.keys },
    });
    return { subscriptionId: sub.id, device };
  }

  /** Waits until presence shows the user with that status to another member of the tenant. */
  const onlineAsSeenBy = (watcher: ImClient, userId: string, status = 'online') =>
    eventually(async () => {
      const { presence } = await watcher.presence([userId]);
      assert.equal(presence[0]?.status, status);
    });

  const waitForPushes = (subscriptionId: string, n = 1) =>
    eventually(
      () => {
        const got = pushService.pushesTo(subscriptionId);
        assert.ok(got.length >= n, `${got.length} of ${n} pushes`);
        return got;
      },
      { timeoutMs: 20_000 },
    );

  it('devices: register, list, remove; the same subscription twice is one device; bad input changes nothing', async () => {
    const [ana, bo] = await registerUsers(platform, 2, 'devices');
    const sub = pushService.subscribe();
    const body = { platform: 'webpush', subscription: { endpoint: sub.endpoint, keys: sub.keys } };
    const first = await ana!.call<Device>('POST', '/v1/devices', body);
    const again = await ana!.call<Device>('POST', '/v1/devices', body);
    assert.equal(again.id, first.id);
    const apns = await ana!.call<Device>('POST', '/v1/devices', { platform: 'apns', token: 'ab'.repeat(32) });
    const list = async (u: ImClient) => await u.devices();
    assert.deepEqual((await list(ana!)).map((d) => d.id).sort(), [first.id, apns.id].sort());
    assert.equal((await list(ana!)).find((d) => d.id === first.id)?.subscription?.endpoint, sub.endpoint);

    const bad = [
      { platform: 'webpush', subscription: { endpoint: 'http://push.example.com/x', keys: sub.keys } },
      { platform: 'webpush', subscription: { endpoint: 'https://10.0.0.7/x', keys: sub.keys } },
      { platform: 'webpush', subscription: { endpoint: 'https://169.254.169.254/latest', keys: sub.keys } },
      { platform: 'webpush', subscription: { endpoint: sub.endpoint, keys: { ...sub.keys, auth: 'AAAA' } } },
      { platform: 'webpush' },
      { platform: 'apns', token: 'not-a-token' },
      { platform: 'sms', token: '12345' },
      { platform: 'fcm', token: 'x'.repeat(40), extra: true },
    ];
    for (const b of bad)
      assert.equal(
        await outcome(ana!.call('POST', '/v1/devices', b)),
        '400 invalid_argument',
        JSON.stringify(b),
      );
    assert.equal((await list(ana!)).length, 2, 'nothing changed');

    assert.equal(await outcome(bo!.call('DELETE', `/v1/devices/${first.id}`)), '404 not_found', 'not his');
    await ana!.call('DELETE', `/v1/devices/${apns.id}`);
    assert.deepEqual(
      (await list(ana!)).map((d) => d.id),
      [first.id],
    );
    assert.equal(await outcome(ana!.call('DELETE', `/v1/devices/${apns.id}`)), '404 not_found');
    const key = await ana!.call<{ publicKey: string }>('GET', '/v1/devices/webpush-key');
    assert.equal(Buffer.from(key.publicKey, 'base64url').length, 65);
  });

  it('an offline member gets one push for a burst of 5, with the badge; the sender and an online member none', async () => {
    const [ana, bo, cy] = await registerUsers(platform, 3, 'burst');
    const group = await ana!.createConversation('group', [bo!.user.id, cy!.user.id], 'burst');
    const anaDevice = await subscribe(ana!);
    const boDevice = await subscribe(bo!);
    const cyDevice = await subscribe(cy!);
    const cySocket = await cy!.connect();
    try {
      await onlineAsSeenBy(ana!, cy!.user.id);
      // at once, so that the burst fits the window on a slow machine too
      const sent = await Promise.all(
        [1, 2, 3, 4, 5].map((i) => ana!.sendMessage(group.id, `b-${i}`, `message ${i}`)),
      );
      const [push] = await waitForPushes(boDevice.subscriptionId);
      await sleep(WINDOW_MS + SETTLE_MS);
      assert.equal(pushService.pushesTo(boDevice.subscriptionId).length, 1, 'one push for the burst');
      const p = push!.payload;
      assert.equal(p.kind, 'messages');
      assert.equal(p.conversationId, group.id);
      assert.equal(p.count, 5);
      assert.equal(p.seq, 5);
      assert.equal(p.badge, 5);
      assert.equal(p.title, `5 new messages from ${ana!.user.displayName || ana!.user.username}`);
      assert.equal(p.body, sent.find((m) => Number(m.seq) === 5)!.text, 'the newest text');
      assert.equal(push!.headers.ttl, '3600');
      assert.match(String(push!.headers.topic), /^[A-Za-z0-9_-]{1,32}$/);
      assert.equal(push!.headers['content-encoding'], 'aes128gcm');
      assert.equal(pushService.pushesTo(anaDevice.subscriptionId).length, 0, 'never the sender');
      assert.equal(pushService.pushesTo(cyDevice.subscriptionId).length, 0, 'Cy is online');

      // Bo reads on another device: a silent badge update
      await bo!.markRead(group.id, 5);
      const [, badge] = await waitForPushes(boDevice.subscriptionId, 2);
      assert.deepEqual(
        { kind: badge!.payload.kind, badge: badge!.payload.badge, title: badge!.payload.title },
        { kind: 'badge', badge: 0, title: undefined },
      );
    } finally {
      await cySocket.close();
    }
  });

  it('read on another device while the push waits: no message push, only the silent badge', async () => {
    const [ana, bo] = await registerUsers(platform, 2, 'readfirst');
    const group = await ana!.createConversation('group', [bo!.user.id], 'readfirst');
    const boDevice = await subscribe(bo!);
    const m = await ana!.sendMessage(group.id, 'rf-1', 'seen on the desktop');
    await bo!.markRead(group.id, Number(m.seq));
    const [badge] = await waitForPushes(boDevice.subscriptionId);
    await sleep(WINDOW_MS + SETTLE_MS);
    assert.deepEqual(
      pushService.pushesTo(boDevice.subscriptionId).map((p) => [p.payload.kind, p.payload.badge]),
      [['badge', 0]],
    );
    assert.equal(badge!.headers.urgency, 'low');
  });

  it('rules: level mentions (a mention or a keyword passes), muted, previews none, quiet hours, busy', async () => {
    const [ana, bo, dee] = await registerUsers(platform, 3, 'rules');
    const group = await ana!.createConversation('group', [bo!.user.id, dee!.user.id], 'rules');
    const boDevice = await subscribe(bo!);
    const control = await subscribe(dee!);
    let n = 0;
    /** Sends; returns Bo's push for it, or undefined when Dee (always pushed) got hers and Bo none. */
    const send = async (text: string, mentions?: string[]): Promise<ReceivedPush | undefined> => {
      const m = await ana!.sendMessage(group.id, `r-${++n}`, text, mentions ? { mentions } : {});
      const forIt = (subscriptionId: string) =>
        pushService.pushesTo(subscriptionId).find((p) => p.payload.seq === Number(m.seq));
      await eventually(() => assert.ok(forIt(control.subscriptionId), 'the control member’s push'), {
        timeoutMs: 20_000,
      });
      // Bo's comes from the same batch: waited for a moment only when it is not there yet
      return eventually(
        () => {
          const push = forIt(boDevice.subscriptionId);
          assert.ok(push);
          return push;
        },
        { timeoutMs: SETTLE_MS },
      ).catch(() => undefined);
    };
    const set = (path: string, body: unknown) => bo!.call('PUT', path, body);
    const conv = `/v1/conversations/${group.id}/notification-settings`;

    assert.ok(await send('plain'), 'level all by default in groups');
    await set(conv, { level: 'mentions' });
    await set('/v1/me/notification-settings', { keywords: ['Deploy'] });
    assert.equal(await send('plain again'), undefined, 'mentions only');
    assert.ok(await send('hey', [bo!.user.id]), 'a mention passes');
    assert.ok(await send('the deploy is done'), 'a keyword passes');
    assert.equal(await send('redeployed'), undefined, 'whole words only');

    await set(conv, { level: 'all', mutedUntil: new Date(Date.now() + 3_600_000).toISOString() });
    assert.equal(await send('while muted', [bo!.user.id]), undefined, 'muted');
    await set(conv, { mutedUntil: null });

    await set('/v1/me/notification-settings', { previews: 'none' });
    const bare = await send('a secret plan');
    assert.ok(bare);
    assert.ok(!JSON.stringify(bare.payload).includes('secret'), 'no text');
    assert.equal(bare.payload.title, undefined);
    await set('/v1/me/notification-settings', { previews: 'full' });

    const hh = (d: Date) => d.toISOString().slice(11, 16);
    const now = new Date();
    await set('/v1/me/notification-settings', {
      quietHours: {
        start: hh(new Date(now.getTime() - 3_600_000)),
        end: hh(new Date(now.getTime() + 3_600_000)),
        timeZone: 'UTC',
      },
    });
    assert.equal(await send('at night'), undefined, 'quiet hours');
    await set('/v1/me/notification-settings', { quietHours: null });

    const socket = await bo!.connect();
    try {
      await socket.request('presence.set', { status: 'busy' });
      await onlineAsSeenBy(ana!, bo!.user.id, 'busy');
      assert.equal(await send('while busy'), undefined, 'busy');
      assert.ok(await send('urgent', [bo!.user.id]), 'busy lets mentions through');
    } finally {
      await socket.close();
    }
    const settings = await bo!.call<Record<string, unknown>>('GET', '/v1/me/notification-settings');
    assert.deepEqual(settings, { readReceipts: true, previews: 'full', keywords: ['Deploy'] });
    assert.deepEqual(await set(conv, { level: 'default' }), { level: 'default' });
  });

  it('bad settings are refused and change nothing', async () => {
    const [ana, bo] = await registerUsers(platform, 2, 'badset');
    const group = await ana!.createConversation('group', [bo!.user.id], 'badset');
    const conv = `/v1/conversations/${group.id}/notification-settings`;
    for (const body of [
      { previews: 'everything' },
      { quietHours: { start: '25:00', end: '07:00', timeZone: 'UTC' } },
      { quietHours: { start: '22:00', end: '07:00', timeZone: 'Mars/Olympus' } },
      { keywords: Array.from({ length: 51 }, (_, i) => `k${i}`) },
      { keywords: [''] },
      { unknown: 1 },
    ])
      assert.equal(
        await outcome(ana!.call('PUT', '/v1/me/notification-settings', body)),
        '400 invalid_argument',
        JSON.stringify(body),
      );
    for (const body of [{ level: 'loud' }, { mutedUntil: 'tomorrow' }])
      assert.equal(await outcome(ana!.call('PUT', conv, body)), '400 invalid_argument', JSON.stringify(body));
    const [stranger] = await registerUsers(platform, 1, 'badset');
    assert.equal(await outcome(stranger!.call('PUT', conv, { level: 'none' })), '404 not_found');
    assert.deepEqual(await ana!.call('GET', '/v1/me/notification-settings'), {
      readReceipts: true,
      previews: 'full',
      keywords: [],
    });
    assert.deepEqual(await ana!.call('GET', conv), { level: 'default' });
  });

  it('a 410 from the push service removes the device; logout removes the session’s devices', async () => {
    const [ana, bo, cy] = await registerUsers(platform, 3, 'gone');
    const group = await ana!.createConversation('group', [bo!.user.id, cy!.user.id], 'gone');
    const boDevice = await subscribe(bo!);
    pushService.failFor(boDevice.subscriptionId, 410, 60_000);
    await ana!.sendMessage(group.id, 'g-1', 'are you there?');
    await eventually(async () => {
      assert.deepEqual(await bo!.devices(), []);
    });

    await subscribe(cy!);
    await cy!.call('POST', '/v1/auth/logout');
    await cy!.login(cy!.user.username, 'correct horse battery');
    await eventually(async () => {
      assert.deepEqual(await cy!.devices(), []);
    });
  });

  it('a push service answering 503 for a while delays the push but loses nothing', async () => {
    const [ana, bo] = await registerUsers(platform, 2, 'outage');
    const group = await ana!.createConversation('group', [bo!.user.id], 'outage');
    const boDevice = await subscribe(bo!);
    pushService.failFor(boDevice.subscriptionId, 503, 6_000, '1');
    await ana!.sendMessage(group.id, 'o-1', 'during the outage');
    // five failures in a row open the circuit for 10 s; backoff stays under a minute
    const [push] = await eventually(
      () => {
        const got = pushService.pushesTo(boDevice.subscriptionId);
        assert.ok(got.length >= 1);
        return got;
      },
      { timeoutMs: 90_000, what: 'the push after the outage' },
    );
    assert.ok(pushService.refused.filter((r) => r.subscriptionId === boDevice.subscriptionId).length >= 2);
    assert.equal(push!.payload.body, 'during the outage');
    await sleep(SETTLE_MS);
    assert.equal(pushService.pushesTo(boDevice.subscriptionId).length, 1, 'once');
  });
});
