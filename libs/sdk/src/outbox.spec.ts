import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import type { Message } from '@im/proto/client/v1';
import { ApiError } from './errors.js';
import { settle } from './fake-socket.spec-support.js';
import { MemoryOutboxStorage, Outbox, WebStorageOutbox, type OutboxEntry } from './outbox.js';

const entry = (n: number): OutboxEntry => ({
  clientMsgId: `k${n}`,
  conversationId: 'c',
  text: `t${n}`,
  createdAt: n,
});

/** A send function whose answers the test scripts: each call takes the next outcome. */
function scriptedSend(outcomes: Array<'ok' | ApiError>) {
  const calls: string[] = [];
  const send = async (e: OutboxEntry): Promise<Message> => {
    calls.push(e.clientMsgId);
    const outcome = outcomes.shift() ?? 'ok';
    if (outcome !== 'ok') throw outcome;
    return { conversationId: e.conversationId, clientMsgId: e.clientMsgId, seq: calls.length } as Message;
  };
  return { calls, send };
}

describe('Outbox', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  it('sends in order, one at a time, and only while connected', async () => {
    const { calls, send } = scriptedSend([]);
    const outbox = new Outbox(send);
    const sent: string[] = [];
    outbox.on('sent', (e) => sent.push(e.clientMsgId));
    await outbox.enqueue(entry(1));
    await outbox.enqueue(entry(2));
    await settle();
    assert.deepEqual(calls, []);
    outbox.resume();
    await settle();
    await settle();
    assert.deepEqual(sent, ['k1', 'k2']);
    assert.deepEqual(outbox.pending(), []);
  });

  it('rate_limited: waits retryAfterMs (plus up to half of it at random), then sends again with the same clientMsgId', async () => {
    const { calls, send } = scriptedSend([new ApiError('rate_limited', 'slow down', 0, 700)]);
    const outbox = new Outbox(send, { random: () => 0 });
    outbox.resume();
    await outbox.enqueue(entry(1));
    await settle();
    assert.deepEqual(calls, ['k1']);
    mock.timers.tick(699);
    await settle();
    assert.deepEqual(calls, ['k1']);
    mock.timers.tick(1);
    await settle();
    assert.deepEqual(calls, ['k1', 'k1']);
    assert.deepEqual(outbox.pending(), []);
  });

  it('unavailable without a hint backs off; a dropped connection waits for resume(), keeping the order', async () => {
    const { calls, send } = scriptedSend([
      new ApiError('unavailable', 'busy'),
      new ApiError('connection_closed', 'dropped'),
    ]);
    const outbox = new Outbox(send, { backoff: { baseMs: 1_000 }, random: () => 0.5 });
    outbox.resume();
    await outbox.enqueue(entry(1));
    await outbox.enqueue(entry(2));
    await settle();
    mock.timers.tick(500);
    outbox.pause(); // the drop is noticed by the connection first
    await settle();
    assert.deepEqual(calls, ['k1', 'k1']);
    mock.timers.tick(60_000);
    await settle();
    assert.deepEqual(calls, ['k1', 'k1']);
    outbox.resume();
    await settle();
    await settle();
    assert.deepEqual(calls, ['k1', 'k1', 'k1', 'k2']);
  });

  it('a permanent refusal drops the entry, reports it, and the next one goes on', async () => {
    const { calls, send } = scriptedSend([new ApiError('forbidden', 'not a member', 403)]);
    const outbox = new Outbox(send);
    const failed: string[] = [];
    outbox.on('failed', (e, err) => failed.push(`${e.clientMsgId}:${err.code}`));
    outbox.resume();
    await outbox.enqueue(entry(1));
    await outbox.enqueue(entry(2));
    await settle();
    await settle();
    assert.deepEqual(failed, ['k1:forbidden']);
    assert.deepEqual(calls, ['k1', 'k2']);
  });

  it('survives a reload: entries are stored until acknowledged and restored by the next outbox', async () => {
    const backing = new Map<string, string>();
    const web = {
      getItem: (k: string) => backing.get(k) ?? null,
      setItem: (k: string, v: string) => void backing.set(k, v),
    };
    const first = new Outbox(scriptedSend([]).send, { storage: new WebStorageOutbox(web, 'outbox:me') });
    await first.enqueue(entry(1));
    await first.enqueue(entry(2));
    const { calls, send } = scriptedSend([]);
    const second = new Outbox(send, { storage: new WebStorageOutbox(web, 'outbox:me') });
    await second.restore();
    assert.deepEqual(
      second.pending().map((e) => e.clientMsgId),
      ['k1', 'k2'],
    );
    second.resume();
    await settle();
    await settle();
    assert.deepEqual(calls, ['k1', 'k2']);
    assert.equal(backing.get('outbox:me'), '[]');
    assert.deepEqual(new MemoryOutboxStorage().load(), []);
  });
});
