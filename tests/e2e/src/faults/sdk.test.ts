import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { headerSocketFactory, ImChat, ImClient } from '@im/sdk';
import { eventually, Platform, TcpFailover } from '@im/testing';
import { registerUsers } from '../support/users.js';

const unlimited = { SEND_RATE_PER_SEC: '100000', SEND_BURST: '100000' };

// The SDK as an app uses it (ImChat: connection, outbox, per-conversation state), behind a load
// balancer in front of two gateways, when the gateway it is connected to is killed mid-stream.
describe('SDK across a gateway crash', () => {
  let platform: Platform;
  let front: TcpFailover;

  before(async () => {
    platform = await Platform.start({ gateways: 2, env: { gateway: unlimited } });
    front = await TcpFailover.start([0, 1].map((i) => platform.gateways[i]!.address('publicPort')));
  });
  after(async () => {
    await front?.stop();
    await platform?.stop();
  });

  it('kill -9 of the gateway in the middle of 200 sends: nothing lost, nothing twice, every timeline dense and in order', async () => {
    const [aliceDirect, bobDirect] = await registerUsers(platform, 2, 'sdkcut', undefined, 1);
    const conv = await aliceDirect!.createConversation('direct', [bobDirect!.user.id]);
    // Alice reaches the platform through the front (gateway 0 while it lives); Bob straight at gateway 1
    const alice = new ImClient(front.url);
    alice.session = aliceDirect!.session;
    const chatA = new ImChat(alice, {
      socketFactory: headerSocketFactory,
      backoff: { baseMs: 200, maxMs: 2_000 },
    });
    const chatB = new ImChat(bobDirect!, { socketFactory: headerSocketFactory });
    const seenByA = new Map<number, number>();
    chatA.on('message', (m) => seenByA.set(m.seq, (seenByA.get(m.seq) ?? 0) + 1));
    const statesA: string[] = [];
    chatA.on('state', (s) => statesA.push(s));
    let acked = 0;
    chatA.outbox.on('sent', () => acked++);
    const failed: string[] = [];
    chatA.on('failed', (e, err) => failed.push(`${e.clientMsgId}: ${err.code}`));
    await Promise.all([chatA.start(), chatB.start()]);
    try {
      await eventually(() => assert.equal(chatA.state, 'open'));
      await eventually(() => assert.equal(chatB.state, 'open'));

      for (let i = 0; i < 200; i++) await chatA.send(conv.id, `m-${i}`);
      await eventually(() => assert.ok(acked >= 60, `acked ${acked}`), { timeoutMs: 30_000 });
      const unackedAtKill = chatA.outbox.pending().length;
      await platform.gateways[0]!.kill();
      assert.ok(unackedAtKill > 0, 'the crash came with sends in flight');
      await eventually(() => assert.equal(chatA.outbox.pending().length, 0, `acked ${acked}`), {
        timeoutMs: 60_000,
      });
      assert.deepEqual(failed, []);
      assert.ok(
        statesA.filter((s) => s === 'open').length >= 2,
        `the sender lost its gateway and reconnected: ${statesA.join(' → ')}`,
      );

      const stored = await bobDirect!.allMessages(conv.id);
      assert.deepEqual(
        stored.map((m) => m.text),
        Array.from({ length: 200 }, (_, i) => `m-${i}`),
        'every message stored once, in the order sent',
      );
      assert.deepEqual(
        stored.map((m) => m.seq),
        Array.from({ length: 200 }, (_, i) => i + 1),
      );
      const expected = stored.map((m) => m.seq);
      for (const [name, chat] of [
        ['sender', chatA],
        ['recipient', chatB],
      ] as const)
        await eventually(
          () =>
            assert.deepEqual(
              chat.timeline(conv.id).map((t) => t.message.seq),
              expected,
              `${name}: the app-visible timeline is dense and in order`,
            ),
          { timeoutMs: 30_000 },
        );
      assert.ok(
        [...seenByA.values()].every((n) => n === 1),
        'each message reached the app once',
      );
      assert.equal(seenByA.size, 200);
    } finally {
      chatA.stop();
      chatB.stop();
    }
  });
});
