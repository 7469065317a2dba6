import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import type { Conversation, Message } from '@im/proto/client/v1';
import { ImChat } from './chat.js';
import type { ImClient } from './client.js';
import { fakeSockets, settle, type FakeSocket } from './fake-socket.spec-support.js';

const msg = (seq: number, senderId = 'bob', extra: Partial<Message> = {}): Message =>
  ({
    id: `m${seq}`,
    conversationId: 'c',
    seq,
    senderId,
    clientMsgId: `k${seq}`,
    text: `t${seq}`,
    createdAt: `2026-12-02T10:00:0${seq % 10}Z`,
    version: 0,
    mentions: [],
    ...extra,
  }) as Message;

const conversation = {
  id: 'c',
  type: 'direct',
  lastSeq: 2,
  readSeq: 2,
  unreadCount: 0,
  mentionCount: 0,
  lastVersion: 0,
  lastMessage: msg(2),
} as unknown as Conversation;

function setup(
  listFailures = 0,
  own: Record<string, Conversation> = {},
  listed: Conversation | Conversation[] = conversation,
) {
  const { factory, sockets } = fakeSockets();
  const client = {
    wsUrl: 'ws://x/v1/ws',
    user: { id: 'me' },
    accessToken: async () => 'tok',
    refresh: async () => ({ accessToken: 'tok2' }),
    listConversations: async () => {
      if (listFailures-- > 0) throw new Error('offline');
      return { conversations: Array.isArray(listed) ? listed : [listed] };
    },
    getConversation: async (id: string) => own[id],
  } as unknown as ImClient;
  const chat = new ImChat(client, { socketFactory: factory, typingTtlMs: 5_000 });
  const seen: number[] = [];
  chat.on('message', (m) => seen.push(m.seq));
  return { chat, sockets, seen };
}

/** A chat connected, its first sync answered (the conversation held up to seq 2, version 0). */
async function started() {
  const { chat, sockets } = setup();
  await chat.start();
  await settle();
  sockets[0]!.ready();
  await settle();
  answer(sockets[0]!, 'sync', {
    conversations: [{ conversationId: 'c', messages: [], lastSeq: 2, readSeq: 2, version: 0 }],
    hasMore: false,
  });
  await settle();
  return { chat, sockets };
}

/** Answers the last request of a type with an ack carrying `fields`. */
function answer(socket: FakeSocket, type: string, fields: Record<string, unknown>): Record<string, unknown> {
  const req = socket.lastSent(type);
  assert.ok(req, `no ${type} request sent`);
  socket.push({ type: 'ack', id: req.id, ...fields });
  return req;
}

describe('ImChat', () => {
  it('a shared update of the conversation’s last message (large conversations) keeps our own `me` in the list’s preview', async () => {
    const r = (emoji: string, count: number, me: boolean) => ({ emoji, count, me, userIds: [] });
    const { chat, sockets } = setup(
      0,
      {},
      {
        ...conversation,
        lastMessage: msg(2, 'bob', { reactions: [r('👍', 1, true)] }),
      },
    );
    await chat.start();
    await settle();
    sockets[0]!.ready();
    await settle();
    sockets[0]!.push({
      type: 'message.updated',
      message: msg(2, 'bob', { reactions: [r('👍', 2, false)], version: 1, shared: true }),
    });
    await settle();
    const preview = chat.conversation('c')!.lastMessage!;
    assert.deepEqual(preview.reactions, [r('👍', 2, true)]);
    assert.equal(preview.shared, false);
    sockets[0]!.push({ type: 'message.updated', message: msg(2, 'bob', { text: 'stale', version: 0 }) });
    await settle();
    assert.equal(chat.conversation('c')!.lastMessage!.version, 1, 'an older view does not replace it');
  });

  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'setInterval'] }));
  afterEach(() => mock.timers.reset());

  it('drops duplicates, detects a gap and heals it with sync; the timeline is dense and counts follow', async () => {
    const { chat, sockets, seen } = setup();
    await chat.start();
    await settle();
    sockets[0]!.ready();
    await settle();
    const first = answer(sockets[0]!, 'sync', {
      conversations: [{ conversationId: 'c', messages: [], lastSeq: 2, readSeq: 2, version: 0 }],
      hasMore: false,
    });
    assert.deepEqual(first.conversations, [{ conversationId: 'c', afterSeq: 2, afterVersion: 0 }]);
    await settle();

    sockets[0]!.push({ type: 'message.new', message: msg(3) });
    sockets[0]!.push({ type: 'message.new', message: msg(3) }); // at-least-once: a duplicate
    sockets[0]!.push({ type: 'message.new', message: msg(6, 'bob', { mentions: ['me'] }) }); // 4 and 5 missing
    await settle();
    const heal = answer(sockets[0]!, 'sync', {
      conversations: [
        { conversationId: 'c', messages: [msg(4), msg(5), msg(6)], lastSeq: 6, readSeq: 2, version: 0 },
      ],
      hasMore: false,
    });
    assert.deepEqual(heal.conversations, [{ conversationId: 'c', afterSeq: 3, afterVersion: 0 }]);
    await settle();
    assert.deepEqual(
      chat.timeline('c').map((i) => i.message.seq),
      [2, 3, 4, 5, 6],
    );
    assert.deepEqual(seen, [3, 6, 4, 5]);
    assert.deepEqual(chat.log.gaps(), []);
    const state = chat.conversation('c')!;
    assert.equal(state.unreadCount, 4);
    assert.equal(state.mentionCount, 1);
    assert.equal(state.lastMessage?.seq, 6);

    // a mention inside a healed gap counts too; the user's own message reads everything before it
    sockets[0]!.push({ type: 'message.new', message: msg(9) });
    await settle();
    answer(sockets[0]!, 'sync', {
      conversations: [
        {
          conversationId: 'c',
          messages: [msg(7, 'bob', { mentions: ['all'] }), msg(8), msg(9)],
          lastSeq: 9,
          readSeq: 2,
          version: 0,
        },
      ],
      hasMore: false,
    });
    await settle();
    assert.equal(state.mentionCount, 2);
    assert.equal(state.unreadCount, 7);
    sockets[0]!.push({ type: 'message.new', message: msg(10, 'me') });
    assert.deepEqual([state.readSeq, state.unreadCount, state.mentionCount], [10, 0, 0]);
  });

  it('heals every conversation of a reconnect, also those the server had no room for in one answer', async () => {
    const other = { ...conversation, id: 'd', lastMessage: msg(2, 'bob', { conversationId: 'd' }) };
    const { chat, sockets } = setup(0, {}, [conversation, other]);
    await chat.start();
    await settle();
    sockets[0]!.ready();
    await settle();
    const page = (id: string, seqs: number[], hasMore: boolean, version = 0) => ({
      conversationId: id,
      messages: seqs.map((seq) => msg(seq, 'bob', { conversationId: id })),
      lastSeq: 9,
      readSeq: 2,
      version,
      hasMore,
    });
    // the budget went to c; d comes back unchanged, with more to fetch
    answer(sockets[0]!, 'sync', { conversations: [page('c', [3, 4], true), page('d', [], true)] });
    await settle();
    const second = answer(sockets[0]!, 'sync', {
      conversations: [page('c', [5, 6, 7, 8, 9], false), page('d', [3], true)],
    });
    assert.deepEqual(
      (second.conversations as Array<{ conversationId: string }>).map((c) => c.conversationId),
      ['c', 'd'],
    );
    await settle();
    // only d is left
    answer(sockets[0]!, 'sync', { conversations: [page('d', [4, 5, 6, 7, 8, 9], false)] });
    await settle();
    assert.deepEqual(
      chat.timeline('d').map((i) => i.message.seq),
      [2, 3, 4, 5, 6, 7, 8, 9],
    );
    const syncs = sockets[0]!.sent.filter((f) => f.type === 'sync').length;
    assert.equal(syncs, 3);
  });

  it('a shared conversation.updated (a large conversation) changes the settings, not the read marker or counts; one not held is fetched as the user sees it', async () => {
    const other = { ...conversation, id: 'big', lastSeq: 9, readSeq: 5, unreadCount: 4 } as Conversation;
    const { chat, sockets } = setup(0, { big: other });
    await chat.start();
    await settle();
    sockets[0]!.ready();
    await settle();
    const shared = { readSeq: 0, unreadCount: 0, mentionCount: 0, shared: true };
    sockets[0]!.push({
      type: 'conversation.updated',
      conversation: { ...conversation, ...shared, lastVersion: 1, topic: 'new topic' },
    });
    await settle();
    const state = chat.conversation('c')!;
    assert.equal(state.conversation.topic, 'new topic');
    assert.deepEqual(
      [state.readSeq, state.unreadCount, state.conversation.readSeq, state.conversation.shared],
      [2, 0, 2, false],
    );
    sockets[0]!.push({ type: 'conversation.updated', conversation: { ...other, ...shared } });
    await settle();
    await settle();
    const fetched = chat.conversation('big')!;
    assert.deepEqual([fetched.readSeq, fetched.unreadCount], [5, 4], 'its own view, fetched');
  });

  it('a conversation list that cannot be loaded at start is loaded once connected', async () => {
    const { chat, sockets } = setup(1);
    await chat.start();
    await settle();
    assert.equal(chat.conversations().length, 0);
    assert.equal(sockets.length, 1, 'connects anyway');
    sockets[0]!.ready();
    await settle();
    await settle();
    assert.equal(chat.conversations().length, 1);
    assert.ok(sockets[0]!.lastSent('sync'), 'and heals it');
  });

  it('a deleted message that mentioned the user no longer counts; a resync frame lists and heals everything', async () => {
    const { chat, sockets } = await started();
    sockets[0]!.push({ type: 'message.new', message: msg(3, 'bob', { mentions: ['me'] }) });
    sockets[0]!.push({ type: 'message.new', message: msg(4, 'bob', { mentions: ['all'] }) });
    await settle();
    const state = chat.conversation('c')!;
    assert.equal(state.mentionCount, 2);
    sockets[0]!.push({
      type: 'message.updated',
      message: msg(3, 'bob', { text: '', deleted: true, version: 1 }),
    });
    await settle();
    assert.equal(state.mentionCount, 1, 'the deleted one is not counted');

    const syncs = () => sockets[0]!.sent.filter((f) => f.type === 'sync').length;
    const before = syncs();
    sockets[0]!.push({ type: 'resync', afterMs: 1_000 });
    await settle();
    assert.equal(syncs(), before, 'not before afterMs');
    mock.timers.tick(1_000);
    await settle();
    await settle();
    assert.equal(syncs(), before + 1, 'every conversation synced');
  });

  it('edits arrive by version; a jump in versions is a missed update, healed by sync from the last one held', async () => {
    const { chat, sockets } = await started();
    const syncs = () => sockets[0]!.sent.filter((f) => f.type === 'sync').length;
    sockets[0]!.push({
      type: 'message.updated',
      message: msg(2, 'bob', { text: 'edited once', version: 1 }),
    });
    await settle();
    assert.equal(syncs(), 1, 'the next version: no sync');
    assert.equal(chat.timeline('c').at(-1)!.message.text, 'edited once');
    sockets[0]!.push({
      type: 'message.updated',
      message: msg(2, 'bob', { text: 'edited thrice', version: 3 }),
    });
    await settle();
    const heal = answer(sockets[0]!, 'sync', {
      conversations: [
        {
          conversationId: 'c',
          messages: [],
          updated: [
            msg(1, 'bob', { text: 'reacted to', version: 2 }),
            msg(2, 'bob', { text: 'edited thrice', version: 3 }),
          ],
          lastSeq: 2,
          readSeq: 2,
          version: 3,
        },
      ],
      hasMore: false,
    });
    assert.deepEqual(heal.conversations, [{ conversationId: 'c', afterSeq: 2, afterVersion: 1 }]);
    await settle();
    assert.equal(chat.timeline('c').at(-1)!.message.text, 'edited thrice');
  });

  it('a send shows at once as pending and is replaced by the acknowledged message', async () => {
    const { chat, sockets } = setup();
    await chat.start();
    await settle();
    sockets[0]!.ready();
    await settle();
    await chat.send('c', 'hello');
    const pending = chat.timeline('c').at(-1)!;
    assert.equal(pending.pending, true);
    assert.equal(pending.message.text, 'hello');
    const req = answer(sockets[0]!, 'message.send', {
      message: msg(3, 'me', {
        clientMsgId: String(sockets[0]!.lastSent('message.send')!.clientMsgId),
        text: 'hello',
      }),
    });
    assert.equal(req.text, 'hello');
    await settle();
    await settle();
    const items = chat.timeline('c');
    assert.deepEqual(
      items.map((i) => [i.message.seq, i.pending]),
      [
        [2, false],
        [3, false],
      ],
    );
  });

  it('presence: each subscribe sends the whole followed set (the server replaces it); a throttled one is sent again', async () => {
    const { chat, sockets } = setup();
    await chat.start();
    await settle();
    sockets[0]!.ready();
    const first = chat.subscribePresence(['bob']);
    await settle();
    answer(sockets[0]!, 'presence.subscribe', { presence: [{ userId: 'bob', status: 'online' }] });
    await first;
    const second = chat.subscribePresence(['carol', 'bob']);
    await settle();
    const req = sockets[0]!.lastSent('presence.subscribe')!;
    assert.deepEqual(req.userIds, ['bob', 'carol']);
    sockets[0]!.push({
      type: 'error',
      id: req.id,
      code: 'rate_limited',
      message: 'slow',
      retryAfterMs: 2_000,
    });
    await second;
    const sent = () => sockets[0]!.sent.filter((f) => f.type === 'presence.subscribe').length;
    assert.equal(sent(), 2);
    mock.timers.tick(2_000);
    await settle();
    assert.equal(sent(), 3, 'sent again after retryAfterMs');
    assert.deepEqual(sockets[0]!.lastSent('presence.subscribe')!.userIds, ['bob', 'carol']);
    // past the cap the oldest are dropped: the most recent 500 are followed
    const more = chat.subscribePresence(Array.from({ length: 499 }, (_, i) => `u${i}`));
    await settle();
    const ids = sockets[0]!.lastSent('presence.subscribe')!.userIds as string[];
    assert.equal(ids.length, 500);
    assert.deepEqual([ids[0], ids.at(-1)], ['carol', 'u498']);
    answer(sockets[0]!, 'presence.subscribe', { presence: [] });
    await more;
    chat.stop();
  });

  it("typing shows for the TTL unless the sender's message arrives first", async () => {
    const { chat, sockets } = setup();
    await chat.start();
    await settle();
    sockets[0]!.ready();
    sockets[0]!.push({ type: 'typing', conversationId: 'c', userId: 'bob' });
    assert.deepEqual(chat.conversation('c')!.typing, ['bob']);
    mock.timers.tick(5_000);
    assert.deepEqual(chat.conversation('c')!.typing, []);
    sockets[0]!.push({ type: 'typing', conversationId: 'c', userId: 'bob' });
    sockets[0]!.push({ type: 'message.new', message: msg(3) });
    assert.deepEqual(chat.conversation('c')!.typing, []);
  });
});
