import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Message } from '@im/proto/client/v1';
import { ConversationLog } from './conversation-log.js';

const msg = (seq: number, conversationId = 'c'): Message => ({
  id: `m${seq}`,
  conversationId,
  seq,
  senderId: 'u',
  clientMsgId: `k${seq}`,
  text: 't',
  createdAt: undefined,
  attachments: [],
  reactions: [],
  version: 0,
  mentions: [],
  replyCount: 0,
  lastReplySeq: 0,
});

describe('ConversationLog', () => {
  it('drops duplicates and keeps seq order', () => {
    const log = new ConversationLog();
    assert.equal(log.add(msg(2)), true);
    assert.equal(log.add(msg(1)), true);
    assert.equal(log.add(msg(2)), false);
    assert.deepEqual(
      log.messages('c').map((m) => m.seq),
      [1, 2],
    );
    assert.equal(log.contiguousUpTo('c'), 2);
  });

  it('reports a gap with the cursor that heals it', () => {
    const log = new ConversationLog();
    for (const s of [1, 2, 5, 6]) log.add(msg(s));
    assert.deepEqual(log.gaps(), [{ conversationId: 'c', afterSeq: 2, missingFrom: 3, missingTo: 4 }]);
    log.add(msg(3));
    log.add(msg(4));
    assert.deepEqual(log.gaps(), []);
    assert.equal(log.contiguousUpTo('c'), 6);
  });

  it('a change to a message not held: kept above the contiguous point, ignored in history not loaded', () => {
    const log = new ConversationLog();
    log.startAt('c', 10);
    assert.equal(log.update({ ...msg(3), version: 4 }), false, 'history not loaded stays unloaded');
    assert.equal(log.lowest('c'), 0);
    assert.equal(log.update({ ...msg(12), version: 5 }), true);
    assert.equal(log.hasGap('c'), true);
    assert.deepEqual(log.gaps(), [{ conversationId: 'c', afterSeq: 9, missingFrom: 10, missingTo: 11 }]);
  });

  it('a shared update (large conversations) keeps this user’s own `me`; their own view of that version still lands', () => {
    const log = new ConversationLog();
    const r = (emoji: string, count: number, me: boolean) => ({ emoji, count, me, userIds: [] });
    log.add({ ...msg(1), reactions: [r('👍', 1, true)], version: 1 });
    const shared = { ...msg(1), reactions: [r('👍', 2, false), r('🎉', 1, false)], version: 2, shared: true };
    assert.equal(log.update(shared), true);
    assert.deepEqual(log.get('c', 1)!.reactions, [r('👍', 2, true), r('🎉', 1, false)]);
    assert.equal(log.get('c', 1)!.shared, false);
    assert.equal(log.update(shared), false, 'the same shared view again changes nothing');
    const own = { ...msg(1), reactions: [r('👍', 2, true), r('🎉', 1, true)], version: 2 };
    assert.equal(log.update(own), true, 'our own reaction, from another device: our `me`');
    assert.deepEqual(log.get('c', 1)!.reactions, own.reactions);
    assert.equal(log.update(shared), false, 'a shared view arriving late does not undo it');
    assert.equal(log.update(own), false);
    assert.deepEqual(log.get('c', 1)!.reactions, own.reactions);
  });
});
