import assert from 'node:assert/strict';
import type { Message } from '@im/proto/client/v1';
import { describe, it } from 'node:test';
import type { MessageState } from './message-updates.js';
import { messageFixture } from './message.fixture.js';
import { claimId, SequencingState, type Claim, type SendCommand } from './sequencing.js';
import { replyRefOf, REPLY_PREVIEW_CHARS, threadRootOf, withReplyRefs } from './threads.js';

const message = messageFixture;
const at = new Date('2026-01-02T00:00:00.000Z');
const reply = (clientMsgId: string, root: number, messageId = `id-${clientMsgId}`): SendCommand => ({
  kind: 'send',
  senderId: 'bo',
  clientMsgId,
  messageId,
  reply: { root, at },
});
const state = (lastSeq: number, stored: Message[], claims = new Map<string, Claim>(), lastVersion = 0) =>
  new SequencingState(
    lastSeq,
    claims,
    new Map([['bo', 0]]),
    lastVersion,
    new Map<number, MessageState>(stored.map((m) => [m.seq, { message: m, reactors: new Map() }])),
  );

describe('replies in the sequencer', () => {
  it('a new reply takes the next seq and gives its root the next version with its counts', () => {
    const s = state(5, [message(2)], new Map(), 9);
    const d = s.send(reply('r1', 2), 0);
    assert.equal(d.kind, 'new');
    assert.ok(d.kind === 'new' && d.thread);
    assert.equal(d.seq, 6);
    assert.equal(d.thread.seq, 2);
    assert.equal(d.thread.version, 10);
    assert.equal(d.thread.change, 'replied');
    assert.equal(d.thread.message.replyCount, 1);
    assert.equal(d.thread.message.lastReplySeq, 6);
    assert.equal(d.thread.message.lastReplyAt, at.toISOString());
    const second = s.send(reply('r2', 2), 1);
    assert.ok(second.kind === 'new' && second.thread);
    assert.equal(second.thread.message.replyCount, 2);
    assert.equal(second.thread.version, 11);
    assert.equal(s.lastVersion, 11);
  });

  it('refuses a reply to a missing, future, deleted or reply message, taking no seq and no version', () => {
    const s = state(5, [
      message(3, { deleted: true }),
      message(4, { replyTo: { seq: 1, senderId: '', preview: '' } }),
    ]);
    for (const root of [1, 3, 4, 9]) {
      const d = s.send(reply(`x${root}`, root), 0);
      assert.equal(d.kind, 'refused', `root ${root}`);
      assert.ok(d.kind === 'refused' && d.code === 'invalid_argument' && d.message.startsWith('replyTo:'));
    }
    assert.equal(s.lastSeq, 5);
    assert.equal(s.lastVersion, 0);
  });

  it('a refused send is decided again when retried in the same batch (never answered as a duplicate)', () => {
    const s = state(5, []);
    assert.equal(s.send(reply('same', 2), 0).kind, 'refused');
    assert.equal(s.send(reply('same', 2), 1).kind, 'refused');
  });

  it('a replay counts a stored reply only once: not when its root already counted it', () => {
    const claims = new Map([
      [claimId({ senderId: 'bo', clientMsgId: 'r1' }), { seq: 6, messageId: 'id-r1' }],
    ]);
    const counted = state(6, [message(2, { replyCount: 1, lastReplySeq: 6 })], claims, 10);
    const again = counted.send(reply('r1', 2), 0);
    assert.deepEqual(again, { kind: 'existing', seq: 6, messageId: 'id-r1' });
    assert.equal(counted.lastVersion, 10);
    // the crash came between the reply's claim and its root's update: the replay counts it
    const lost = state(6, [message(2)], claims, 10);
    const healed = lost.send(reply('r1', 2), 0);
    assert.ok(healed.kind === 'existing' && healed.thread);
    assert.equal(healed.thread.message.replyCount, 1);
  });

  it("a client's retry (another message id) never counts, whatever root it names", () => {
    const claims = new Map([
      [claimId({ senderId: 'bo', clientMsgId: 'r1' }), { seq: 6, messageId: 'id-r1' }],
    ]);
    const s = state(6, [message(2), message(3)], claims, 10);
    assert.deepEqual(s.send(reply('r1', 3, 'another-id'), 0), {
      kind: 'existing',
      seq: 6,
      messageId: 'id-r1',
    });
    assert.equal(s.lastVersion, 10);
  });
});

describe('reply references', () => {
  it('show the root as it is now: its sender and the start of its text', () => {
    const long = 'é'.repeat(REPLY_PREVIEW_CHARS + 20);
    assert.deepEqual(replyRefOf(2, message(2, { text: long })), {
      seq: 2,
      senderId: 'ana',
      preview: 'é'.repeat(REPLY_PREVIEW_CHARS),
    });
  });

  it('never show the text of a deleted (or missing) root', () => {
    assert.deepEqual(replyRefOf(2, message(2, { deleted: true, text: 'gone' })), {
      seq: 2,
      senderId: 'ana',
      preview: '',
      deleted: true,
    });
    assert.deepEqual(replyRefOf(2, undefined), { seq: 2, senderId: '', preview: '', deleted: true });
  });

  it('are filled into replies only', () => {
    const root = message(1, { text: 'root' });
    const r = message(2, { replyTo: { seq: 1, senderId: '', preview: '' } });
    const [a, b] = withReplyRefs([root, r], (seq) => (seq === 1 ? root : undefined));
    assert.equal(a, root);
    assert.deepEqual(b!.replyTo, { seq: 1, senderId: 'ana', preview: 'root' });
  });

  it('a reply to a reply joins the thread of its root', () => {
    assert.equal(threadRootOf(message(4, { replyTo: { seq: 1, senderId: '', preview: '' } }), 4), 1);
    assert.equal(threadRootOf(message(4), 4), 4);
    assert.equal(threadRootOf(undefined, 9), 9);
  });
});
