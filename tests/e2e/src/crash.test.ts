import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Message } from '@im/proto/client/v1';
import { ApiError, ConversationLog, type ImSocket } from '@im/sdk';
import { eventually, Platform, sleep } from '@im/testing';
import { closeAll, registerUsers } from './support/users.js';

/** Sends until acknowledged, retrying with the same clientMsgId on anything but a client error. */
async function sendUntilAcked(
  socket: ImSocket,
  conversationId: string,
  text: string,
  clientMsgId: string,
): Promise<Message> {
  const giveUp = Date.now() + 90_000;
  for (;;) {
    try {
      return await socket.sendMessage(conversationId, text, clientMsgId);
    } catch (err) {
      if (err instanceof ApiError && ['invalid_argument', 'not_found', 'forbidden'].includes(err.code))
        throw err;
      if (Date.now() > giveUp) throw err;
      await sleep(200);
    }
  }
}

describe('crash of the message service (kill -9) in the middle of a stream of sends', () => {
  let platform: Platform;

  before(async () => {
    platform = await Platform.start({
      env: {
        gateway: { SEND_RATE_PER_SEC: '100000', SEND_BURST: '100000' },
        message: { SEND_TIMEOUT_MS: '4000', SEQUENCER_SESSION_TIMEOUT_MS: '6000' },
      },
    });
  });
  after(() => platform?.stop());

  it('every acknowledged message is in history exactly once; the sequence continues without a gap', async () => {
    const [alice, bob] = await registerUsers(platform, 2, 'crash');
    const conv = await alice!.createConversation('direct', [bob!.user.id]);
    const [a, b] = await Promise.all([alice!.connect(), bob!.connect()]);
    const total = 400;
    const ids = Array.from({ length: total }, (_, i) => ({ i, clientMsgId: `crash-${i}-${randomUUID()}` }));
    const acked = new Map<string, Message>();
    let killedAfter = -1;
    let inFlightAtKill = 0;
    let inFlight = 0;

    const killer = (async () => {
      await eventually(() => assert.ok(acked.size >= 150), { timeoutMs: 60_000, intervalMs: 10 });
      killedAfter = acked.size;
      inFlightAtKill = inFlight;
      await platform.services.get('message')!.kill();
      await sleep(1_000);
      await platform.restartService('message', {
        SEND_TIMEOUT_MS: '4000',
        SEQUENCER_SESSION_TIMEOUT_MS: '6000',
      });
    })();

    // 20 sends in flight at a time, each retried until acknowledged
    let next = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < total) {
          const { i, clientMsgId } = ids[next++]!;
          inFlight++;
          const msg = await sendUntilAcked(a, conv.id, `m${i}`, clientMsgId);
          inFlight--;
          acked.set(clientMsgId, msg);
        }
      }),
    );
    await killer;
    assert.ok(killedAfter >= 150 && killedAfter < total, `killed after ${killedAfter} acks`);
    assert.ok(inFlightAtKill > 0, 'sends were in flight when the process died');

    const history = await bob!.allMessages(conv.id);
    assert.equal(history.length, total, 'each message stored once');
    assert.deepEqual(
      history.map((m) => m.seq),
      Array.from({ length: total }, (_, i) => i + 1),
      'seq is dense: 1..N with no gap and no reuse, across the crash',
    );
    const byClientId = new Map(history.map((m) => [m.clientMsgId, m]));
    for (const [clientMsgId, ack] of acked) {
      const stored = byClientId.get(clientMsgId);
      assert.ok(stored, `acknowledged ${clientMsgId} is in history`);
      assert.equal(stored.seq, ack.seq, 'history holds the acknowledged seq');
      assert.equal(stored.id, ack.id);
    }

    // the recipient saw each seq at most as one message, and heals any gap with sync
    const log = new ConversationLog();
    for (const m of b.messagesOf(conv.id)) {
      const known = log.messages(conv.id).find((x) => x.seq === m.seq);
      if (known) assert.equal(known.id, m.id, `seq ${m.seq} delivered as two different messages`);
      log.add(m);
    }
    for (let gaps = log.gaps(); gaps.length > 0 || log.contiguousUpTo(conv.id) < total; gaps = log.gaps()) {
      const ack = await b.sync([{ conversationId: conv.id, afterSeq: log.contiguousUpTo(conv.id) }], 500);
      for (const m of ack.conversations[0]!.messages) log.add(m);
    }
    assert.equal(log.contiguousUpTo(conv.id), total);

    const after = await a.sendMessage(conv.id, 'after the crash');
    assert.equal(after.seq, total + 1);
    await closeAll([a, b]);
  });
});
