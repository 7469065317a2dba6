import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientSchemas, frameCatalogue } from './json-schema.js';

describe('clientSchemas', () => {
  const schemas = clientSchemas();

  it('describes every public resource and frame', () => {
    for (const name of [
      'Message',
      'Conversation',
      'User',
      'Presence',
      'MessageSendFrame',
      'AckFrame',
      'ErrorFrame',
    ]) {
      assert.ok(schemas.has(name), name);
    }
  });

  it('maps proto types to JSON types, with comments as descriptions', () => {
    const message = schemas.get('Message') as {
      properties: Record<string, Record<string, unknown>>;
      required: string[];
    };
    assert.deepEqual(message.properties.seq, {
      type: 'integer',
      format: 'int64',
      description: 'Dense per conversation: 1, 2, 3, ... with no gaps and no reuse.',
    });
    assert.deepEqual(message.properties.createdAt, { type: 'string', format: 'date-time' });
    assert.deepEqual(message.properties.attachments, {
      type: 'array',
      items: { $ref: '#/components/schemas/Attachment' },
    });
    assert.ok(message.required.includes('conversationId'));
    assert.ok(!message.required.includes('editedAt'), 'optional fields are not required');
  });
});

describe('frameCatalogue', () => {
  it('lists the frames of each direction by type, each with a described message', () => {
    const { client, server } = frameCatalogue();
    assert.ok(client.some((f) => f.type === 'message.send' && f.message === 'MessageSendFrame'));
    assert.ok(server.some((f) => f.type === 'message.new' && f.message === 'MessageNewEvent'));
    for (const f of [...client, ...server]) assert.ok(clientSchemas().has(f.message), f.message);
    assert.equal(new Set(client.map((f) => f.type)).size, client.length, 'client types are unique');
    assert.equal(new Set(server.map((f) => f.type)).size, server.length, 'server types are unique');
  });
});
