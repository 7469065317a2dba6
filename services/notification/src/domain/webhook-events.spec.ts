import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import type { ConversationEvent } from '@im/proto/events/v1';
import { signatureHeader, webhookEventsOf } from './webhook-events.js';

const base = { eventId: 'e1', conversationId: 'c1', tenantId: 't1', occurredAt: '2026-12-02T12:00:00.000Z' };

describe('webhook events', () => {
  it('maps a membership change to joined and left, with distinct ids', () => {
    const ev = {
      ...base,
      event: {
        $case: 'membersChanged',
        value: {
          addedUserIds: ['a'],
          removedUserIds: ['b'],
          changedBy: 'x',
          updated: [],
          version: 3,
          closed: false,
        },
      },
    } as ConversationEvent;
    assert.deepEqual(
      webhookEventsOf(ev).map((w) => [w.id, w.type, w.data.userIds]),
      [
        ['e1', 'member.joined', ['a']],
        ['e1.left', 'member.left', ['b']],
      ],
    );
  });

  it('read markers are not webhook events', () => {
    const ev = {
      ...base,
      event: { $case: 'readMarked', value: { conversationId: 'c1', userId: 'u', readSeq: 1, lastSeq: 1 } },
    } as unknown as ConversationEvent;
    assert.deepEqual(webhookEventsOf(ev), []);
  });

  it('signs "<t>.<body>" with HMAC-SHA256', () => {
    const header = signatureHeader('s3cret', '{"a":1}', 1_700_000_000);
    const mac = createHmac('sha256', 's3cret').update('1700000000.{"a":1}').digest('hex');
    assert.equal(header, `t=1700000000,v1=${mac}`);
  });
});
