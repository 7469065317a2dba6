import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PushBatches } from './push-batches.js';

const who = { tenantId: 't', userId: 'bo', conversationId: 'c1', partition: 0 };
const msg = (seq: number) => ({
  eventId: `e${seq}`,
  seq,
  senderId: 'ana',
  text: `m${seq}`,
  mentioned: false,
});

describe('push batches', () => {
  it('a burst within the window is one entry, each event once', () => {
    const b = new PushBatches(2_000);
    for (const [at, seq] of [
      [0, 1],
      [100, 2],
      [200, 2],
      [1_900, 3],
    ] as const)
      b.addMessage(at, who, msg(seq));
    assert.deepEqual(b.takeDue(1_999), []);
    const [entry, ...rest] = b.takeDue(2_000);
    assert.equal(rest.length, 0);
    assert.deepEqual(
      entry!.messages.map((m) => m.seq),
      [1, 2, 3],
    );
  });

  it('per user and conversation', () => {
    const b = new PushBatches(1_000);
    b.addMessage(0, who, msg(1));
    b.addMessage(0, { ...who, userId: 'cy' }, msg(1));
    b.addMessage(0, { ...who, conversationId: 'c2' }, msg(1));
    assert.equal(b.takeDue(1_000).length, 3);
  });

  it('the watermark is the oldest entry waiting or being sent', () => {
    const b = new PushBatches(1_000);
    assert.equal(b.oldest(), undefined);
    b.addMessage(10, who, msg(1));
    b.addBadge(500, { ...who, userId: 'cy' }, 4);
    const [first] = b.takeDue(1_010);
    assert.equal(b.oldest(), 10, 'still being sent');
    b.done(first!);
    assert.equal(b.oldest(), 500);
    b.takeDue(1_500).forEach((e) => b.done(e));
    assert.equal(b.oldest(), undefined);
    assert.equal(b.size, 0);
  });

  it('a failed send waits again, keeping its place in the watermark and merging newer messages', () => {
    const b = new PushBatches(1_000);
    b.addMessage(0, who, msg(1));
    const [entry] = b.takeDue(1_000);
    b.addMessage(1_100, who, msg(2));
    b.retry(entry!, 5_000);
    assert.equal(b.oldest(), 0);
    assert.deepEqual(b.takeDue(4_999), []);
    const [again] = b.takeDue(5_000);
    assert.deepEqual(
      again!.messages.map((m) => m.seq),
      [1, 2],
    );
  });

  it('a rebalance drops the waiting batches of partitions handed away, not those being sent', () => {
    const b = new PushBatches(1_000);
    b.addMessage(0, who, msg(1));
    b.addMessage(300, { ...who, userId: 'cy', partition: 1 }, msg(1));
    b.addMessage(500, { ...who, userId: 'dee', partition: 1 }, msg(2));
    const [sending, ...none] = b.takeDue(1_000);
    assert.equal(none.length, 0);
    assert.equal(b.keepPartitions(new Set([0])), 2);
    assert.equal(b.size, 1);
    b.done(sending!);
    assert.equal(b.size, 0);
  });

  it('what the user read (or answered) while it waited is not pushed', () => {
    const b = new PushBatches(1_000);
    b.addMessage(0, who, msg(1));
    b.addMessage(10, who, msg(2));
    b.addMessage(20, who, msg(3));
    assert.equal(b.isWaiting('bo', 'c1'), true);
    b.seen('bo', 'c1', 2);
    assert.deepEqual(
      b.takeDue(1_000)[0]!.messages.map((m) => m.seq),
      [3],
    );
    b.addMessage(2_000, who, msg(4));
    b.seen('bo', 'c1', 4);
    assert.equal(b.isWaiting('bo', 'c1'), false);
    assert.equal(b.oldest(), 0, 'only the one being sent');
  });

  it('a cooldown after a push: the next batch of that conversation waits for it, then carries all', () => {
    const b = new PushBatches(1_000, 10_000);
    b.addMessage(0, who, msg(1));
    const [first] = b.takeDue(1_000);
    b.done(first!, 1_000);
    b.addMessage(1_500, who, msg(2));
    b.addMessage(5_000, who, msg(3));
    b.addMessage(1_500, { ...who, conversationId: 'c2' }, msg(1));
    assert.deepEqual(
      b.takeDue(2_500).map((e) => e.conversationId),
      ['c2'],
      'another conversation: no cooldown',
    );
    assert.deepEqual(b.takeDue(10_999), []);
    assert.deepEqual(
      b.takeDue(11_000)[0]!.messages.map((m) => m.seq),
      [2, 3],
    );
  });
});
