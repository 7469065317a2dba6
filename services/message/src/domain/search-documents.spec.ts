import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '@im/platform/errors';
import type { Message } from '@im/proto/client/v1';
import type { ConversationEvent } from '@im/proto/events/v1';
import {
  decodeCursor,
  encodeCursor,
  indexOperationOf,
  searchRequest,
  validateSearch,
} from './search-documents.js';
import { messageFixture } from './message.fixture.js';

const message = (extra: Partial<Message> = {}): Message =>
  messageFixture(4, { id: 'm1', conversationId: 'c1', clientMsgId: 'k', text: 'hello world', ...extra });
const event = (e: ConversationEvent['event']): ConversationEvent => ({
  eventId: 'e',
  conversationId: 'c1',
  tenantId: 't1',
  occurredAt: '2026-01-01T00:00:00.000Z',
  event: e,
});
const invalid = (err: unknown) => err instanceof AppError && err.code === 'invalid_argument';

describe('search documents', () => {
  it('a created message is indexed at version 0, routed by tenant', () => {
    const op = indexOperationOf(
      event({ $case: 'messageCreated', value: { message: message(), conversationType: 'group' } }),
    );
    assert.deepEqual(op, {
      id: 'c1:4',
      version: 0,
      routing: 't1',
      doc: {
        tenantId: 't1',
        conversationId: 'c1',
        seq: 4,
        senderId: 'ana',
        text: 'hello world',
        createdAt: '2026-01-01T00:00:00.000Z',
        deleted: false,
      },
    });
  });

  it('an edit replaces the text at its version; a delete keeps no text; reactions change nothing', () => {
    const updated = (m: Message, change: string) =>
      indexOperationOf(
        event({ $case: 'messageUpdated', value: { message: m, change, changedBy: 'ana', emoji: '' } }),
      );
    const edit = updated(
      message({ text: 'new', editedAt: '2026-01-02T00:00:00.000Z', version: 3 }),
      'edited',
    );
    assert.equal(edit?.version, 3);
    assert.equal(edit?.doc.text, 'new');
    assert.equal(edit?.doc.editedAt, '2026-01-02T00:00:00.000Z');
    const del = updated(message({ text: '', deleted: true, version: 4 }), 'deleted');
    assert.deepEqual([del?.version, del?.doc.text, del?.doc.deleted], [4, '', true]);
    assert.equal(updated(message({ version: 5 }), 'reaction_added'), undefined);
    assert.equal(
      indexOperationOf(
        event({ $case: 'readMarked', value: { conversationId: 'c1', userId: 'u', readSeq: 1, lastSeq: 1 } }),
      ),
      undefined,
    );
  });

  it('cursors round-trip; anything else is invalid_argument', () => {
    assert.deepEqual(decodeCursor(encodeCursor([1700, 'c1', 4])), [1700, 'c1', 4]);
    assert.equal(decodeCursor(''), undefined);
    // a cursor of the former relevance order goes on by time
    assert.deepEqual(decodeCursor(Buffer.from('[1.5,1700,"c1",4]').toString('base64url')), [1700, 'c1', 4]);
    for (const bad of [
      'x',
      Buffer.from('[1,2]').toString('base64url'),
      Buffer.from('{"a":1}').toString('base64url'),
      encodeCursor([1e20, 'c1', 4]),
      encodeCursor([1700, 'c1', 1.5]),
      encodeCursor([1700, 'c1', 0]),
      encodeCursor([1700, 'x'.repeat(129), 4]),
      Buffer.from('[null,1700,"c1",4]').toString('base64url'),
      Buffer.from('[1,1700.5,"c1",4]').toString('base64url'),
    ])
      assert.throws(() => decodeCursor(bad), invalid, bad);
  });

  it('queries: trimmed, 1-256 characters; limit 1-50 (0 = 20)', () => {
    assert.deepEqual(validateSearch('  hi ', 0), { query: 'hi', limit: 20 });
    for (const [q, limit] of [
      ['', 10],
      ['  ', 10],
      ['x'.repeat(257), 10],
      ['x', 51],
      ['x', -1],
    ] as const)
      assert.throws(() => validateSearch(q, limit), invalid);
  });

  it('the request filters by tenant, conversations and not deleted, and asks one more than the page', () => {
    const req = searchRequest({
      tenantId: 't1',
      conversationIds: ['c1', 'c2'],
      query: 'hi',
      limit: 10,
      after: undefined,
    }) as {
      size: number;
      query: { bool: { filter: unknown[] } };
      sort: unknown[];
    };
    assert.equal(req.size, 11);
    // newest first, never by score: a score moves with every write to the shard
    assert.deepEqual(req.sort, [{ createdAt: 'desc' }, { conversationId: 'asc' }, { seq: 'desc' }]);
    assert.deepEqual(req.query.bool.filter, [
      { term: { tenantId: 't1' } },
      { terms: { conversationId: ['c1', 'c2'] } },
      { term: { deleted: false } },
    ]);
  });
});
