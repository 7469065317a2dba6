import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { composePush, type BatchedMessage } from './push-content.js';

const m = (seq: number, senderId: string, text: string): BatchedMessage => ({
  eventId: `e${seq}`,
  seq,
  senderId,
  text,
  mentioned: false,
});
const names: Record<string, string> = { ana: 'Ana', bo: 'Bo' };
const nameOf = (id: string) => names[id] ?? id;

describe('push content', () => {
  it('one message: the sender and the text', () => {
    const p = composePush('c1', [m(4, 'ana', 'hi  there\n')], 'full', nameOf, 3);
    assert.deepEqual(
      { title: p.title, body: p.body, count: p.count, seq: p.seq, badge: p.badge },
      { title: 'Ana', body: 'hi there', count: 1, seq: 4, badge: 3 },
    );
  });

  it('a burst: one push naming the count and the senders, showing the newest text', () => {
    const p = composePush('c1', [m(1, 'ana', 'a'), m(2, 'bo', 'b'), m(3, 'ana', 'c')], 'full', nameOf, 9);
    assert.equal(p.title, '3 new messages from Ana, Bo');
    assert.equal(p.body, 'c');
    assert.equal(p.seq, 3);
    assert.deepEqual(p.senderIds, ['ana', 'bo']);
  });

  it('previews "sender": no text; "none": ids and counts only', () => {
    const burst = [m(1, 'ana', 'secret plan'), m(2, 'ana', 'more secrets')];
    const sender = composePush('c1', burst, 'sender', nameOf, 2);
    assert.equal(sender.body, '2 new messages');
    assert.ok(!JSON.stringify(sender).includes('secret'));
    const none = composePush('c1', burst, 'none', nameOf, 2);
    assert.deepEqual(Object.keys(none).sort(), [
      'badge',
      'conversationId',
      'count',
      'kind',
      'mentioned',
      'seq',
    ]);
  });

  it('long texts are cut on a character boundary', () => {
    const p = composePush('c1', [m(1, 'ana', '😀'.repeat(500))], 'full', nameOf, 1);
    assert.equal([...p.body!].length, 180);
    assert.ok(p.body!.endsWith('…'));
  });
});
