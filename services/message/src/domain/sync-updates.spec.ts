import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Message } from '@im/proto/client/v1';
import { messageFixture } from './message.fixture.js';
import { CONVERSATION_CHANGE } from './message-updates.js';
import { updatesWithin } from './sync-updates.js';

const stored = new Map([1, 2, 3, 4].map((seq) => [seq, messageFixture(seq)]));
const size = (_m: Message) => 100;

describe('updatesWithin', () => {
  it('takes the changes of held messages oldest first, each message once, with the settings changes', () => {
    const changes = [
      { version: 5, seq: 2 },
      { version: 6, seq: CONVERSATION_CHANGE },
      { version: 7, seq: 2 },
      { version: 8, seq: 9 }, // not held by the device
      { version: 9, seq: 1 },
    ];
    const page = updatesWithin(changes, stored, 4, 10_000, size);
    assert.deepEqual(
      [page.messages.map((m) => m.seq), page.upTo, page.taken, page.settingsChanged, page.cut],
      [[1, 2], 9, 5, true, false],
    );
  });

  it('stops before the change whose message does not fit, and says how far it went', () => {
    const changes = [1, 2, 3, 4].map((seq, i) => ({ version: 10 + i, seq }));
    const page = updatesWithin(changes, stored, 4, 250, size);
    assert.deepEqual(
      [page.messages.map((m) => m.seq), page.upTo, page.taken, page.cut],
      [[1, 2], 11, 2, true],
    );
  });

  it('always takes one message, however large, so a sync moves', () => {
    const page = updatesWithin(
      [
        { version: 3, seq: 4 },
        { version: 4, seq: 3 },
      ],
      stored,
      4,
      10,
      size,
    );
    assert.deepEqual([page.messages.map((m) => m.seq), page.upTo, page.cut], [[4], 3, true]);
  });
});
