import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ImClient } from '@im/sdk';
import { eventually, Platform, sleep } from '@im/testing';
import { LocalPushService } from '@im/testing';
import { registerUsers } from '../support/users.js';

// kill -9 of the notification service with a batch waiting, and right after a batch was sent:
// the push still arrives once with every message of the burst, and a replayed event is not pushed
// again (pushed_upto: the highest seq pushed per user and conversation).
const WINDOW_MS = 3_000;

describe('notification faults', () => {
  let platform: Platform;
  const pushService = new LocalPushService();

  before(async () => {
    await pushService.start();
    platform = await Platform.start({
      env: {
        notification: {
          LOG_LEVEL: 'debug',
          WEBPUSH_ALLOW_HTTP_LOOPBACK: 'true',
          NOTIFICATION_BATCH_WINDOW_MS: String(WINDOW_MS),
        },
      },
    });
  });
  after(async () => {
    await platform?.stop();
    await pushService.stop();
  });

  async function subscribe(user: ImClient): Promise<string> {
    const sub = pushService.subscribe();
    await user.call('POST', '/v1/devices', {
      platform: 'webpush',
      subscription: { endpoint: sub.endpoint, keys: sub.keys },
    });
    return sub.id;
  }

  it('kill -9 with a batch waiting: after the restart, one push with the whole burst', async () => {
    const [ana, bo] = await registerUsers(platform, 2, 'pushcrash');
    const group = await ana!.createConversation('group', [bo!.user.id], 'crash');
    const boSub = await subscribe(bo!);
    const notification = platform.services.get('notification')!;
    for (let i = 1; i <= 3; i++) await ana!.sendMessage(group.id, `c-${i}`, `before the crash ${i}`);
    await notification.waitForLog((l) => l.msg === 'push waiting' && l.userId === bo!.user.id, 20_000);
    await notification.kill();
    assert.equal(pushService.pushesTo(boSub).length, 0, 'killed inside the window');

    await platform.restartService('notification');
    const [push] = await eventually(
      () => {
        const got = pushService.pushesTo(boSub);
        assert.equal(got.length, 1);
        return got;
      },
      { timeoutMs: 60_000, what: 'the push after the restart' },
    );
    assert.equal(push!.payload.count, 3);
    assert.equal(push!.payload.body, 'before the crash 3');
    await sleep(WINDOW_MS + 2_000);
    assert.equal(pushService.pushesTo(boSub).length, 1, 'once');
  });

  it('kill -9 right after a push went out: the replayed events are not pushed again', async () => {
    const [ana, bo] = await registerUsers(platform, 2, 'pushtwice');
    const group = await ana!.createConversation('group', [bo!.user.id], 'twice');
    const boSub = await subscribe(bo!);
    let notification = platform.services.get('notification')!;
    await ana!.sendMessage(group.id, 't-1', 'sent before the crash');
    await notification.waitForLog(
      (l) => l.msg === 'push batch sent' && l.userId === bo!.user.id && l.kind === 'messages',
      30_000,
    );
    // offsets are committed about a second after the batch: this kill lands before that
    await notification.kill();
    assert.equal(pushService.pushesTo(boSub).length, 1);

    notification = await platform.restartService('notification');
    // the replay is handled: a new message after it is pushed, and nothing else
    await ana!.sendMessage(group.id, 't-2', 'after the restart');
    await eventually(() => assert.equal(pushService.pushesTo(boSub).length, 2), {
      timeoutMs: 60_000,
      what: 'the push of the new message',
    });
    await sleep(WINDOW_MS + 2_000);
    const pushes = pushService.pushesTo(boSub).map((p) => [p.payload.body, p.payload.count]);
    assert.deepEqual(pushes, [
      ['sent before the crash', 1],
      ['after the restart', 1],
    ]);
  });
});
