import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ImClient } from '@im/sdk';
import { eventually, Platform, sleep } from '@im/testing';
import { LocalApns } from './support/local-apns.js';
import { LocalFcm } from './support/local-fcm.js';
import { LocalPushService } from '@im/testing';
import { registerUsers } from './support/users.js';

// Apple's and Google's push services cannot be reached from here: each provider runs its real
// client library (@parse/node-apn; google-auth-library + fetch) against a local server that
// speaks its protocol and checks its credentials.
const WINDOW_MS = 1_000;

interface Device {
  id: string;
}

const apnsToken = () => randomBytes(32).toString('hex');
const fcmToken = () => `fcm:${randomBytes(30).toString('base64url')}`;

describe('push providers: APNs and FCM (local servers speaking their protocols)', () => {
  let platform: Platform;
  const apns = new LocalApns();
  const fcm = new LocalFcm();
  const webPush = new LocalPushService();

  before(async () => {
    const apnsAddress = await apns.start();
    await fcm.start();
    await webPush.start();
    const dir = await mkdtemp(join(tmpdir(), 'im-push-'));
    await writeFile(join(dir, 'AuthKey.p8'), apns.p8);
    await writeFile(join(dir, 'apns-ca.pem'), apns.caPem);
    await writeFile(join(dir, 'fcm.json'), JSON.stringify(fcm.serviceAccount()));
    platform = await Platform.start({
      env: {
        notification: {
          NOTIFICATION_BATCH_WINDOW_MS: String(WINDOW_MS),
          WEBPUSH_ALLOW_HTTP_LOOPBACK: 'true',
          APNS_KEY_FILE: join(dir, 'AuthKey.p8'),
          APNS_KEY_ID: apns.keyId,
          APNS_TEAM_ID: apns.teamId,
          APNS_TOPIC: apns.topic,
          APNS_ENDPOINT: apnsAddress,
          APNS_CA_FILE: join(dir, 'apns-ca.pem'),
          FCM_CREDENTIALS_FILE: join(dir, 'fcm.json'),
          FCM_ENDPOINT: fcm.base,
        },
      },
    });
  });
  after(async () => {
    await platform?.stop();
    await Promise.all([apns.stop(), fcm.stop(), webPush.stop()]);
  });

  const register = (user: ImClient, body: unknown) => user.call<Device>('POST', '/v1/devices', body);
  const devicesOf = async (user: ImClient) => await user.devices();

  it('APNs: an alert with title, body, badge, topic, push type and collapse id; a read sends a background badge', async () => {
    const [ana, bo] = await registerUsers(platform, 2, 'apns');
    const group = await ana!.createConversation('group', [bo!.user.id], 'apns');
    const token = apnsToken();
    await register(bo!, { platform: 'apns', token });
    await Promise.all([1, 2].map((i) => ana!.sendMessage(group.id, `a-${i}`, `hello ${i}`)));
    const [req] = await eventually(() => {
      const got = apns.to(token);
      assert.equal(got.length, 1);
      return got;
    });
    assert.equal(req!.headers['apns-push-type'], 'alert');
    assert.equal(req!.headers['apns-priority'], '10');
    assert.ok(Number(req!.headers['apns-expiration']) > Date.now() / 1000);
    const aps = req!.payload.aps as { alert: { title: string; body: string }; badge: number };
    assert.equal(aps.badge, 2);
    assert.equal(aps.alert.title, `2 new messages from ${ana!.user.displayName || ana!.user.username}`);
    assert.match(aps.alert.body, /^hello [12]$/);
    assert.equal(req!.payload.conversationId, group.id);
    assert.equal(req!.payload.count, 2);

    await bo!.markRead(group.id, 2);
    const [, silent] = await eventually(() => {
      const got = apns.to(token);
      assert.equal(got.length, 2);
      return got;
    });
    assert.equal(silent!.headers['apns-push-type'], 'background');
    assert.equal(silent!.headers['apns-priority'], '5');
    assert.deepEqual(silent!.payload.aps, { badge: 0, 'content-available': 1, 'thread-id': group.id });
  });

  it('FCM: a message with notification, data and collapse key, authorized by the service account’s token', async () => {
    const [ana, bo] = await registerUsers(platform, 2, 'fcm');
    const group = await ana!.createConversation('group', [bo!.user.id], 'fcm');
    const token = fcmToken();
    await register(bo!, { platform: 'fcm', token });
    const m = await ana!.sendMessage(group.id, 'f-1', 'from android land');
    const [msg] = await eventually(() => {
      const got = fcm.to(token);
      assert.equal(got.length, 1);
      return got;
    });
    assert.deepEqual(msg!.notification, {
      title: ana!.user.displayName || ana!.user.username,
      body: 'from android land',
    });
    assert.deepEqual(msg!.data, {
      kind: 'messages',
      conversationId: group.id,
      seq: String(m.seq),
      count: '1',
      badge: '1',
    });
    assert.equal(msg!.android.priority, 'high');
    assert.match(msg!.android.collapse_key, /^[\w-]{1,32}$/);
    assert.ok(fcm.tokensIssued >= 1, 'an access token came from the token endpoint');

    // the access token is revoked: a 401, a new token, and the push goes through
    const issued = fcm.tokensIssued;
    fcm.revokeAccessTokens();
    await ana!.sendMessage(group.id, 'f-2', 'after the revocation');
    await eventually(() => assert.equal(fcm.to(token).length, 2), { timeoutMs: 30_000 });
    assert.ok(fcm.tokensIssued > issued, 'a new access token was fetched');
  });

  it('dead tokens: APNs Unregistered (410) and FCM UNREGISTERED (404) remove the device; BadDeviceToken does not', async () => {
    const [ana, bo, cy, dee] = await registerUsers(platform, 4, 'dead');
    const group = await ana!.createConversation('group', [bo!.user.id, cy!.user.id, dee!.user.id], 'dead');
    const bad = apnsToken();
    const unregistered = apnsToken();
    const gone = fcmToken();
    await register(bo!, { platform: 'apns', token: bad });
    await register(cy!, { platform: 'apns', token: unregistered });
    await register(dee!, { platform: 'fcm', token: gone });
    apns.answer(bad, 400, 'BadDeviceToken');
    apns.answer(unregistered, 410, 'Unregistered');
    fcm.answer(gone, { status: 404, errorCode: 'UNREGISTERED' });
    await ana!.sendMessage(group.id, 'd-1', 'anyone?');
    await eventually(async () => {
      for (const u of [cy!, dee!]) assert.deepEqual(await devicesOf(u), [], u.user.username);
    });
    // BadDeviceToken also follows from a sandbox/production mix-up: refused, logged, kept
    await eventually(() =>
      assert.ok(apns.refused.some((r) => r.token === bad && r.reason === 'BadDeviceToken')),
    );
    assert.equal((await devicesOf(bo!)).length, 1);
  });

  it('FCM answering 429 with Retry-After: the push waits as long as asked, then goes once', async () => {
    const [ana, bo] = await registerUsers(platform, 2, 'fcm429');
    const group = await ana!.createConversation('group', [bo!.user.id], 'fcm429');
    const token = fcmToken();
    await register(bo!, { platform: 'fcm', token });
    fcm.answerNext(token, { status: 429, retryAfter: '3' }, 1);
    await ana!.sendMessage(group.id, 'q-1', 'slow down');
    const [msg] = await eventually(
      () => {
        const got = fcm.to(token);
        assert.equal(got.length, 1);
        return got;
      },
      { timeoutMs: 30_000 },
    );
    const refusals = fcm.refused.filter((r) => r.token === token);
    assert.equal(refusals.length, 1);
    assert.ok(msg!.at! - refusals[refusals.length - 1]!.at >= 2_900, 'Retry-After honoured');
    await sleep(1_000);
    assert.equal(fcm.to(token).length, 1, 'once');
  });

  it('FCM answering 503 for a minute delays its pushes but loses nothing; APNs (after 429s) and Web Push keep flowing', async () => {
    const [ana, bo, cy, dee] = await registerUsers(platform, 4, 'outage');
    const group = await ana!.createConversation('group', [bo!.user.id, cy!.user.id, dee!.user.id], 'outage');
    const android = fcmToken();
    const iphone = apnsToken();
    await register(bo!, { platform: 'fcm', token: android });
    await register(cy!, { platform: 'apns', token: iphone });
    const sub = webPush.subscribe();
    await register(dee!, { platform: 'webpush', subscription: { endpoint: sub.endpoint, keys: sub.keys } });
    const OUTAGE_MS = 60_000; // issue 11: "a provider answering 503 for a minute"
    fcm.answer(android, { status: 503 }, OUTAGE_MS);
    apns.answerNext(iphone, 429, 'TooManyRequests', 2);
    const started = Date.now();
    await ana!.sendMessage(group.id, 'o-1', 'during the outage');

    await eventually(() => assert.equal(apns.to(iphone).length, 1), { timeoutMs: 20_000 });
    await eventually(() => assert.equal(webPush.pushesTo(sub.id).length, 1), { timeoutMs: 20_000 });
    assert.ok(Date.now() - started < OUTAGE_MS, 'the others did not wait for FCM');
    assert.ok(fcm.refused.some((r) => r.token === android && r.status === 503));
    assert.ok(apns.refused.some((r) => r.token === iphone && r.status === 429));

    await eventually(() => assert.equal(fcm.to(android).length, 1), {
      timeoutMs: 150_000,
      what: 'the FCM push after the outage',
    });
    assert.ok(Date.now() - started >= OUTAGE_MS);
    await sleep(2_000);
    assert.equal(fcm.to(android).length, 1, 'once');
    assert.equal(fcm.to(android)[0]!.notification?.body, 'during the outage');
  });
});
