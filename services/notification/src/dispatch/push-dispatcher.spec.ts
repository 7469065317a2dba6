import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Message } from '@im/proto/client/v1';
import type { ConversationEvent } from '@im/proto/events/v1';
import { pushableMessage } from './push-dispatcher.js';

const created = (message: Partial<Message>, occurredAt = new Date()): ConversationEvent =>
  ({
    eventId: 'e',
    conversationId: 'c',
    tenantId: 't',
    occurredAt: occurredAt.toISOString(),
    event: { $case: 'messageCreated', value: { message: { seq: 1, text: 'hi', ...message } } },
  }) as unknown as ConversationEvent;

describe('pushableMessage', () => {
  it('pushes a new message, not one deleted since nor one older than an hour', () => {
    assert.equal(pushableMessage(created({}))?.text, 'hi');
    assert.equal(pushableMessage(created({ deleted: true, text: '' })), undefined);
    assert.equal(pushableMessage(created({}, new Date(Date.now() - 2 * 3_600_000))), undefined);
  });
});
