import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { frameCatalogue } from '@im/proto/json-schema';
import { after, before, describe, it } from 'node:test';
import type { Conversation } from '@im/proto/client/v1';
import { ApiError, type ImClient, ImSocket, type ServerFrameOf } from '@im/sdk';
import { Platform } from '@im/testing';
import { registerUsers } from './support/users.js';

/** Sends a raw frame and returns the next error frame (frames without an id are not matched by request()). */
async function rawError(socket: ImSocket, data: string | Buffer): Promise<ServerFrameOf<'error'>> {
  const seen = socket.events.length;
  socket.sendRaw(data);
  return socket.waitFor('error', (f) => socket.events.indexOf(f) >= seen, 5_000);
}

describe('bad input gets a stable error code and changes nothing', () => {
  let platform: Platform;
  let alice: ImClient;
  let bob: ImClient;
  let conv: Conversation;

  before(async () => {
    platform = await Platform.start({ shared: true });
    [alice, bob] = (await registerUsers(platform, 2, 'bad')) as [ImClient, ImClient];
    conv = await alice.createConversation('direct', [bob.user.id]);
    await alice.sendMessage(conv.id, 'baseline', 'the only message');
  });
  after(() => platform?.stop());

  async function assertNothingStored(): Promise<void> {
    const history = await bob.allMessages(conv.id);
    assert.deepEqual(
      history.map((m) => m.text),
      ['the only message'],
      'no message was stored by bad input',
    );
    const list = await alice.listConversations();
    assert.equal(list.conversations.length, 1, 'no conversation was created by bad input');
  }

  it('WebSocket: each malformed frame gets its code, the socket stays usable', async () => {
    const socket = await alice.connect();
    const cases: Array<[string, string | Buffer, string, string?]> = [
      ['not JSON', '{"type": "message.send", oops', 'invalid_json'],
      ['a JSON array', '[1,2,3]', 'invalid_argument'],
      ['no type', '{"id":"n1"}', 'invalid_argument', 'n1'],
      ['an unknown type', '{"type":"message.explode","id":"u1"}', 'unknown_type', 'u1'],
      ['missing fields', '{"type":"message.send","id":"m1"}', 'invalid_argument', 'm1'],
      [
        'a wrong type',
        JSON.stringify({
          type: 'message.send',
          id: 'w1',
          conversationId: conv.id,
          clientMsgId: 'w1',
          text: 42,
        }),
        'invalid_argument',
        'w1',
      ],
      [
        'a negative seq',
        JSON.stringify({ type: 'read', id: 'r1', conversationId: conv.id, seq: -5 }),
        'invalid_argument',
        'r1',
      ],
      [
        'a bad id',
        JSON.stringify({
          type: 'message.send',
          id: 'i1',
          conversationId: 'has spaces!',
          clientMsgId: 'i1',
          text: 'x',
        }),
        'invalid_argument',
        'i1',
      ],
      ['auth again', JSON.stringify({ type: 'auth', token: 'x' }), 'invalid_argument'],
      ['a binary frame', Buffer.from([1, 2, 3]), 'invalid_argument'],
      [
        'an oversized frame (over 64 KiB)',
        JSON.stringify({
          type: 'message.send',
          id: 'big',
          conversationId: conv.id,
          clientMsgId: 'big',
          text: 'x'.repeat(70_000),
        }),
        'payload_too_large',
      ],
    ];
    for (const [what, data, code, id] of cases) {
      const err = await rawError(socket, data);
      assert.equal(err.code, code, `${what}: ${String(err.message)}`);
      if (id) assert.equal(err.id, id, `${what}: the error names the request`);
      assert.ok(typeof err.message === 'string' && err.message.length > 0);
    }
    // the service's own limit: text over 4000 characters
    await assert.rejects(socket.sendMessage(conv.id, 'y'.repeat(4_001), 'too-long'), (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.code, 'invalid_argument');
      assert.match(e.message, /text: at most 4000 characters/);
      return true;
    });
    await assert.rejects(
      socket.sendMessage(conv.id, '   ', 'blank'),
      (e: unknown) => e instanceof ApiError && e.code === 'invalid_argument',
    );
    assert.ok(socket.isOpen, 'the socket survived every bad frame');
    assert.ok((await socket.request('ping')).serverTime);
    await socket.close();
    await assertNothingStored();
  });

  it('WebSocket: a frame over the hard 1 MiB limit closes the socket with 1009; the gateway lives on', async () => {
    const socket = await alice.connect();
    socket.sendRaw(JSON.stringify({ type: 'ping', id: 'huge', pad: 'z'.repeat(1_100_000) }));
    assert.equal((await socket.closed).code, 1009);
    const again = await alice.connect();
    assert.ok((await again.request('ping')).serverTime);
    await again.close();
  });

  it('REST: wrong types in every body, bad queries, bad JSON, wrong media type, oversized bodies and unknown routes', async () => {
    const base = platform.gatewayUrl();
    const auth = { authorization: `Bearer ${alice.session!.accessToken}` };
    const call = async (
      method: string,
      path: string,
      body?: string,
      headers: Record<string, string> = {},
    ) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...auth, ...headers },
        body,
      });
      const json = (await res.json()) as { error?: { code: string; message: string } };
      return { status: res.status, code: json.error?.code, message: json.error?.message };
    };
    const cases: Array<[string, string, string | undefined, number, string]> = [
      ['POST', '/v1/auth/register', JSON.stringify({ username: 1, password: [] }), 400, 'invalid_argument'],
      [
        'POST',
        '/v1/auth/login',
        JSON.stringify({ username: 'a', password: { x: 1 } }),
        400,
        'invalid_argument',
      ],
      ['POST', '/v1/auth/refresh', JSON.stringify({ refreshToken: 5 }), 400, 'invalid_argument'],
      [
        'POST',
        '/v1/conversations',
        JSON.stringify({ type: 'party', memberIds: [] }),
        400,
        'invalid_argument',
      ],
      [
        'POST',
        '/v1/conversations',
        JSON.stringify({ type: 'group', memberIds: 'everyone' }),
        400,
        'invalid_argument',
      ],
      [
        'POST',
        `/v1/conversations/${conv.id}/members`,
        JSON.stringify({ userIds: 'x' }),
        400,
        'invalid_argument',
      ],
      [
        'POST',
        `/v1/conversations/${conv.id}/messages`,
        JSON.stringify({ clientMsgId: 5, text: true }),
        400,
        'invalid_argument',
      ],
      [
        'POST',
        `/v1/conversations/${conv.id}/messages`,
        JSON.stringify({ text: 'no key' }),
        400,
        'invalid_argument',
      ],
      [
        'POST',
        `/v1/conversations/${conv.id}/read`,
        JSON.stringify({ seq: 'latest' }),
        400,
        'invalid_argument',
      ],
      ['GET', `/v1/conversations/${conv.id}/messages?limit=500`, undefined, 400, 'invalid_argument'],
      ['GET', `/v1/conversations/${conv.id}/messages?beforeSeq=abc`, undefined, 400, 'invalid_argument'],
      ['GET', '/v1/conversations?limit=0', undefined, 400, 'invalid_argument'],
      ['GET', '/v1/conversations?cursor=forged', undefined, 400, 'invalid_argument'],
      ['GET', '/v1/presence?userIds=', undefined, 400, 'invalid_argument'],
      ['GET', '/v1/conversations/has%20space', undefined, 400, 'invalid_argument'],
      ['POST', `/v1/conversations/${conv.id}/messages`, '{"clientMsgId": "x", "text": ', 400, 'invalid_json'],
      [
        'POST',
        `/v1/conversations/${conv.id}/messages`,
        JSON.stringify({ clientMsgId: 'x', text: 'y'.repeat(70_000) }),
        413,
        'payload_too_large',
      ],
      ['GET', '/v1/no/such/route', undefined, 404, 'not_found'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const r = await call(method, path, body);
      assert.deepEqual(
        [r.status, r.code],
        [status, code],
        `${method} ${path} ${body?.slice(0, 60) ?? ''}: ${r.message}`,
      );
      assert.ok(r.message, 'every error explains itself');
    }
    const form = await call('POST', `/v1/conversations/${conv.id}/messages`, 'clientMsgId=x&text=y', {
      'content-type': 'text/plain',
    });
    assert.deepEqual([form.status, form.code], [400, 'invalid_argument']);
    await assertNothingStored();
  });

  it('bad upgrade requests: wrong path and token in the URL are refused before the upgrade', async () => {
    const wsBase = platform.gatewayUrl().replace(/^http/, 'ws');
    await assert.rejects(
      ImSocket.connect(`${wsBase}/v1/nope`, alice.session!.accessToken),
      (e: unknown) => e instanceof ApiError && e.status === 404,
    );
    await assert.rejects(
      ImSocket.connect(`${wsBase}/v1/ws?token=${alice.session!.accessToken}`, alice.session!.accessToken),
      (e: unknown) => e instanceof ApiError && e.status === 400,
    );
  });

  it('documents the API: every documented route is served, AsyncAPI lists every frame of the proto', async () => {
    const openapi = (await (await fetch(`${platform.gatewayUrl()}/v1/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    };
    assert.equal(openapi.openapi, '3.1.0');
    assert.ok(openapi.components.schemas.Message && openapi.components.schemas.Error);
    // (that the document lists every route of the table is a gateway unit test)
    const operations = Object.entries(openapi.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path })),
    );
    assert.ok(operations.length >= 15);
    const [probe] = await registerUsers(platform, 1, 'probe'); // the sweep includes logout
    for (const op of operations) {
      const url = platform.gatewayUrl() + op.path.replace(/\{[A-Za-z]+\}/g, randomUUID());
      const res = await fetch(url, {
        method: op.method,
        headers: {
          authorization: `Bearer ${probe!.session!.accessToken}`,
          ...(op.method === 'GET' || op.method === 'DELETE' ? {} : { 'content-type': 'application/json' }),
        },
        ...(op.method === 'GET' || op.method === 'DELETE' ? {} : { body: '{}' }),
      });
      const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
      assert.doesNotMatch(body.error?.message ?? '', /^no route /, `${op.method} ${op.path} is served`);
    }
    const asyncapi = (await (await fetch(`${platform.gatewayUrl()}/v1/asyncapi.json`)).json()) as {
      channels: { ws: { messages: Record<string, unknown> } };
    };
    const { client, server } = frameCatalogue();
    for (const type of [...client.map((f) => f.type), ...server.map((f) => `server.${f.type}`)])
      assert.ok(asyncapi.channels.ws.messages[type], `${type} documented`);
  });
});
