import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Conversation, Message } from '@im/proto/client/v1';
import { ConversationLog, type ImClient } from '@im/sdk';
import { eventually, Platform } from '@im/testing';
import { conversationEvents } from './support/events.js';
import { outcome } from './support/outcome.js';
import { closeAll, registerUsers } from './support/users.js';

describe('messaging through the gateway', () => {
  let platform: Platform;

  before(async () => {
    platform = await Platform.start({
      shared: true,
      env: { gateway: { SEND_RATE_PER_SEC: '100000', SEND_BURST: '100000' } },
    });
  });
  after(() => platform?.stop());

  it('1:1: the ack carries the seq; the recipient and the sender’s other device get message.new', async () => {
    const [alice, bob] = await registerUsers(platform, 2, 'direct');
    const conv = await alice!.createConversation('direct', [bob!.user.id]);
    const [a1, a2, b1] = await Promise.all([
      alice!.connect(),
      alice!.connect({ auth: 'frame' }),
      bob!.connect(),
    ]);
    try {
      const sent = await a1.sendMessage(conv.id, 'hello bob');
      assert.equal(sent.seq, 1);
      assert.equal(sent.senderId, alice!.user.id);
      assert.equal(sent.text, 'hello bob');
      for (const s of [b1, a2]) {
        const ev = await s.waitFor('message.new');
        assert.deepEqual(ev.message, sent);
      }
      const second = await b1.sendMessage(conv.id, 'hi alice');
      assert.equal(second.seq, 2);
      await a2.waitFor('message.new', (f) => f.message!.seq === 2);
    } finally {
      await closeAll([a1, a2, b1]);
    }
  });

  it('group of 5: 5 senders × 200 at once; every member sees seq 1..1000 once, in order; history equals delivery', async () => {
    const users = await registerUsers(platform, 5, 'group');
    const conv = await users[0]!.createConversation(
      'group',
      users.slice(1).map((u) => u.user.id),
      'load',
    );
    const sockets = await Promise.all(users.map((u) => u.connect()));
    try {
      const acks = await Promise.all(
        sockets.flatMap((s, i) =>
          Array.from({ length: 200 }, (_, n) => s.sendMessage(conv.id, `u${i} #${n}`)),
        ),
      );
      assert.deepEqual(
        acks.map((m) => m.seq).sort((a, b) => a - b),
        Array.from({ length: 1000 }, (_, i) => i + 1),
        'acks name every seq exactly once',
      );
      const delivered = await Promise.all(
        sockets.map(async (s) => {
          // a bound on the test, not on the product: delivery speed is measured in load-tests/
          await eventually(() => assert.equal(s.messagesOf(conv.id).length >= 1000, true), {
            timeoutMs: 300_000,
            what: 'all delivered',
          });
          return s.messagesOf(conv.id);
        }),
      );
      const reference = delivered[0]!;
      for (const got of delivered) {
        assert.deepEqual(
          got.map((m) => m.seq),
          Array.from({ length: 1000 }, (_, i) => i + 1),
          'arrival order is seq order, no gap, no duplicate',
        );
        assert.ok(
          got.every((m, i) => m.id === reference[i]!.id),
          'everyone sees the same message at each seq',
        );
      }
      const history = await users[3]!.allMessages(conv.id);
      const digest = (list: Message[]) => list.map((m) => `${m.seq}:${m.id}:${m.text}`);
      assert.deepEqual(digest(history), digest(reference), 'history equals what was delivered');
    } finally {
      await closeAll(sockets);
    }
  });

  it('idempotency: one clientMsgId sent 3 times (across a reconnect) is stored once; every answer names the same seq', async () => {
    const [alice, bob] = await registerUsers(platform, 2, 'idem');
    const conv = await alice!.createConversation('direct', [bob!.user.id]);
    const clientMsgId = `cm-${randomUUID()}`;
    const s1 = await alice!.connect();
    const [first, second] = await Promise.all([
      s1.sendMessage(conv.id, 'once', clientMsgId),
      s1.sendMessage(conv.id, 'once', clientMsgId),
    ]);
    await s1.close();
    const s2 = await alice!.connect();
    const third = await s2.sendMessage(conv.id, 'once', clientMsgId);
    await s2.close();
    assert.deepEqual(second, first);
    assert.deepEqual(third, first);
    // REST with the same key: 200 (the original) instead of 201
    const res = await fetch(`${platform.gatewayUrl()}/v1/conversations/${conv.id}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${alice!.session!.accessToken}` },
      body: JSON.stringify({ clientMsgId, text: 'once' }),
    });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { message: Message }).message.seq, first.seq);
    const fresh = await alice!.call<{ message: Message }>('POST', `/v1/conversations/${conv.id}/messages`, {
      clientMsgId: 'other',
      text: 'next',
    });
    assert.equal(fresh.message.seq, first.seq + 1, 'the next message continues without a gap');
    const history = await bob!.allMessages(conv.id);
    assert.equal(history.filter((m) => m.clientMsgId === clientMsgId).length, 1);
    assert.deepEqual(
      history.map((m) => m.seq),
      [1, 2],
    );
  });

  it('idempotency is per sender: two members using one clientMsgId both get their own message stored (201)', async () => {
    const [alice, bob, carol] = await registerUsers(platform, 3, 'idemsender');
    const conv = await alice!.createConversation('group', [bob!.user.id, carol!.user.id], 'ids');
    const clientMsgId = '42';
    const post = (who: typeof alice, text: string) =>
      fetch(`${platform.gatewayUrl()}/v1/conversations/${conv.id}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${who!.session!.accessToken}` },
        body: JSON.stringify({ clientMsgId, text }),
      });
    const fromBob = await post(bob, 'from bob');
    assert.equal(fromBob.status, 201);
    const fromAlice = await post(alice, 'from alice');
    assert.equal(fromAlice.status, 201, "alice's send is new, not an answer with bob's message");
    const aliceMsg = ((await fromAlice.json()) as { message: Message }).message;
    assert.deepEqual([aliceMsg.senderId, aliceMsg.text], [alice!.user.id, 'from alice']);
    // and in one batch over WebSocket: carol and alice again, at the same moment
    const [c, a] = await Promise.all([carol!.connect(), alice!.connect()]);
    const [carolMsg, aliceAgain] = await Promise.all([
      c.sendMessage(conv.id, 'from carol', clientMsgId),
      a.sendMessage(conv.id, 'ignored: a retry', clientMsgId),
    ]);
    await closeAll([c, a]);
    assert.equal(carolMsg.text, 'from carol');
    assert.deepEqual(aliceAgain, aliceMsg, "alice's retry is answered with alice's message");
    const history = await carol!.allMessages(conv.id);
    assert.deepEqual(
      history.map((m) => `${m.seq}:${m.senderId}:${m.text}`),
      [`1:${bob!.user.id}:from bob`, `2:${alice!.user.id}:from alice`, `3:${carol!.user.id}:from carol`],
    );
  });

  it('a re-emitted send carries the same eventId on im.events.v1, so consumers can drop the copy', async () => {
    const [alice, bob] = await registerUsers(platform, 2, 'eventid');
    const conv = await alice!.createConversation('direct', [bob!.user.id]);
    const first = await alice!.sendMessage(conv.id, 'cm-1', 'one');
    // a retry takes the replay path: the claim is found and the event is published again
    const retry = await alice!.sendMessage(conv.id, 'cm-1', 'one');
    assert.deepEqual(retry, first);
    await alice!.sendMessage(conv.id, 'cm-2', 'two');
    const created = (
      await conversationEvents(
        platform,
        conv.id,
        (evs) => evs.filter((e) => e.event?.$case === 'messageCreated').length >= 3,
      )
    ).filter((e) => e.event?.$case === 'messageCreated');
    const bySeq = (seq: number) =>
      created.filter((e) => e.event?.$case === 'messageCreated' && e.event.value.message?.seq === seq);
    assert.equal(bySeq(1).length, 2, 'the retry re-emitted seq 1');
    assert.equal(bySeq(1)[0]!.eventId, bySeq(1)[1]!.eventId, 'with the same eventId');
    assert.notEqual(bySeq(2)[0]!.eventId, bySeq(1)[0]!.eventId, 'another message has another id');
  });

  it('offline: a device that missed 300 messages heals with sync; unread counts agree on every device after a read marker', async () => {
    const [alice, bob] = await registerUsers(platform, 2, 'offline');
    const conv = await alice!.createConversation('direct', [bob!.user.id]);
    const a = await alice!.connect();
    for (let i = 0; i < 300; i += 50)
      await Promise.all(Array.from({ length: 50 }, (_, n) => a.sendMessage(conv.id, `m${i + n}`)));

    const [b1, b2] = await Promise.all([bob!.connect(), bob!.connect()]);
    try {
      // paged sync from what the device had (nothing), 100 at a time
      const log = new ConversationLog();
      let afterSeq = 0;
      let pages = 0;
      for (;;) {
        const ack = await b1.sync([{ conversationId: conv.id, afterSeq }], 100);
        const entry = ack.conversations.find((c) => c.conversationId === conv.id)!;
        for (const m of entry.messages) log.add(m);
        pages++;
        afterSeq = log.contiguousUpTo(conv.id);
        if (!entry.hasMore) break;
      }
      assert.equal(pages, 3);
      assert.equal(log.contiguousUpTo(conv.id), 300);
      assert.deepEqual(log.gaps(), []);
      // without cursors: every conversation with unread messages, from the read marker
      const all = await b2.sync();
      const unread = all.conversations.find((c) => c.conversationId === conv.id)!;
      assert.equal(unread.readSeq, 0);
      assert.equal(unread.lastSeq, 300);
      assert.equal(unread.messages[0]!.seq, 1);

      const before = await bob!.listConversations();
      assert.equal(before.conversations.find((c) => c.id === conv.id)!.unreadCount, 300);

      const ack = await b1.request('read', { conversationId: conv.id, seq: 300 });
      assert.equal(ack.seq, 300);
      const ev = await b2.waitFor('read', (f) => f.conversationId === conv.id);
      assert.deepEqual({ userId: ev.userId, seq: ev.seq }, { userId: bob!.user.id, seq: 300 });
      await a.waitFor('read', (f) => f.userId === bob!.user.id, 60_000); // receipt to the other side

      const afterRead = await bob!.listConversations();
      const c = afterRead.conversations.find((x) => x.id === conv.id)!;
      assert.deepEqual({ readSeq: c.readSeq, unreadCount: c.unreadCount }, { readSeq: 300, unreadCount: 0 });
      const aliceView = await alice!.getConversation(conv.id);
      assert.equal(
        aliceView.unreadCount,
        0,
        `the sender's own messages count as read: ${JSON.stringify({ readSeq: aliceView.readSeq, lastSeq: aliceView.lastSeq })}`,
      );
      // monotonic: going back changes nothing
      assert.deepEqual(await bob!.markRead(conv.id, 100), { readSeq: 300, unreadCount: 0 });
      // past the end is clamped to the last message
      assert.equal((await bob!.markRead(conv.id, 10_000)).readSeq, 300);
    } finally {
      await closeAll([a, b1, b2]);
    }
  });

  it('authorization: non-members and other tenants learn nothing, exactly as for a conversation that does not exist', async () => {
    const [alice, bob, carol] = await registerUsers(platform, 3, 'authz');
    const [dave] = await registerUsers(platform, 1, 'authz', `other-${randomUUID().slice(0, 8)}`);
    const conv = await alice!.createConversation('group', [bob!.user.id], 'private');
    await alice!.sendMessage(conv.id, 'k1', 'secret');
    const missing = randomUUID();
    for (const outsider of [carol!, dave!]) {
      for (const id of [conv.id, missing]) {
        assert.equal(await outcome(outsider.getConversation(id)), '404 not_found');
        assert.equal(await outcome(outsider.listMessages(id)), '404 not_found');
        assert.equal(await outcome(outsider.sendMessage(id, 'k', 'hi')), '404 not_found');
        assert.equal(await outcome(outsider.markRead(id, 1)), '404 not_found');
        assert.equal(await outcome(outsider.addMembers(id, [outsider.user.id])), '404 not_found');
      }
      const s = await outsider.connect();
      assert.equal(await outcome(s.sendMessage(conv.id, 'hi')), 'ws not_found');
      assert.equal(await outcome(s.request('read', { conversationId: conv.id, seq: 1 })), 'ws not_found');
      const sync = await s.sync([{ conversationId: conv.id, afterSeq: 0 }]);
      assert.deepEqual(sync.conversations, [], 'sync leaves out conversations of others');
      await s.close();
      assert.ok(!(await outsider.listConversations()).conversations.some((c) => c.id === conv.id));
    }
    // across tenants, users do not exist for each other
    assert.equal(await outcome(dave!.createConversation('direct', [alice!.user.id])), '400 invalid_argument');
    const history = await bob!.allMessages(conv.id);
    assert.deepEqual(
      history.map((m) => m.text),
      ['secret'],
      'nothing else was stored',
    );
  });

  it('conversations: unique directs, roles for members, public channels, list by activity with paging', async () => {
    const [alice, bob, carol, dan, erin] = await registerUsers(platform, 5, 'conv');
    const d1 = await alice!.createConversation('direct', [bob!.user.id]);
    const res = await bob!.call<{ conversation: Conversation }>('POST', '/v1/conversations', {
      type: 'direct',
      memberIds: [alice!.user.id, bob!.user.id],
    });
    assert.equal(res.conversation.id, d1.id, 'the same pair gets the same direct conversation');

    const g = await alice!.createConversation('group', [bob!.user.id, carol!.user.id], 'team');
    assert.equal(g.memberCount, 3);
    assert.equal(g.members.find((m) => m.userId === alice!.user.id)!.role, 'owner');
    const carolSocket = await carol!.connect();
    assert.equal(await outcome(carol!.addMembers(g.id, [dan!.user.id])), '403 forbidden');
    const withDan = await alice!.addMembers(g.id, [dan!.user.id], 'admin');
    assert.equal(withDan.memberCount, 4);
    const updated = await carolSocket.waitFor(
      'conversation.updated',
      (f) => f.conversation!.memberCount === 4,
    );
    assert.ok(updated.conversation!.members.some((m) => m.userId === dan!.user.id));
    assert.equal((await dan!.removeMember(g.id, carol!.user.id)).memberCount, 3, 'an admin removes a member');
    assert.equal(await outcome(dan!.removeMember(g.id, alice!.user.id)), '403 forbidden');
    assert.equal(
      await outcome(carol!.getConversation(g.id)),
      '404 not_found',
      'a removed member no longer sees it',
    );
    assert.equal((await bob!.removeMember(g.id, bob!.user.id)).memberCount, 2, 'anyone may leave');
    assert.equal(await outcome(alice!.createConversation('group', [randomUUID()])), '400 invalid_argument');
    await carolSocket.close();

    const ch = await alice!.createConversation('channel', [], 'announcements');
    assert.equal(await outcome(erin!.getConversation(ch.id)), '404 not_found');
    await erin!.addMembers(ch.id, [erin!.user.id]);
    await erin!.sendMessage(ch.id, 'joined', 'hello channel');

    // activity order: the conversation that just got a message comes first; paging covers all
    await alice!.sendMessage(d1.id, 'bump', 'latest');
    const all: Conversation[] = [];
    let cursor: string | undefined;
    do {
      const page = await alice!.listConversations({ limit: 2, cursor });
      all.push(...page.conversations);
      cursor = page.nextCursor;
    } while (cursor);
    assert.deepEqual(
      all.map((c) => c.id),
      [d1.id, ch.id, g.id],
    );
    assert.equal(all[0]!.lastMessage!.text, 'latest');
    assert.equal(all[0]!.members.length, 2, 'direct conversations list their two members');
  });

  /** Conversation rows the message service read in bulk so far, by purpose (its /metrics). */
  async function rowsRead(): Promise<{ list: number; sync: number }> {
    const port = platform.services.get('message')!.ports.httpPort!;
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const count = (purpose: string) =>
      [...text.matchAll(/^im_conversation_rows_read_total\{([^}]*)\} (\d+)/gm)]
        .filter((m) => m[1]!.includes(`purpose="${purpose}"`))
        .reduce((n, m) => n + Number(m[2]), 0);
    return { list: count('list'), sync: count('sync') };
  }

  it('the list and a sync without cursors read the rows they show and channels, not one per membership (ADR 0032)', async () => {
    const [me, a, b] = await registerUsers(platform, 3, 'listreads');
    const creator = new Map<string, ImClient>();
    const create = async (by: ImClient, type: 'direct' | 'group' | 'channel', title?: string) => {
      const c = await by.createConversation(type, [me!.user.id], title);
      creator.set(c.id, by);
      return c;
    };
    const groups: Conversation[] = [];
    for (let i = 0; i < 10; i++) groups.push(await create(i % 2 ? a! : b!, 'group', `reads ${i}`));
    const direct = await create(a!, 'direct');
    const channels = [await create(a!, 'channel', 'reads ch0'), await create(b!, 'channel', 'reads ch1')];
    // messages in some, in this order; one group the user is added to later, after its messages
    const talked = [groups[3]!, channels[0]!, direct, groups[7]!, groups[0]!];
    for (const c of talked) await creator.get(c.id)!.sendMessage(c.id, randomUUID(), 'hi');
    const older = await a!.createConversation('group', [b!.user.id], 'reads older');
    await a!.sendMessage(older.id, randomUUID(), 'before you came');
    await a!.addMembers(older.id, [me!.user.id]);
    const count = groups.length + channels.length + 2;

    const before = await rowsRead();
    const first = await me!.listConversations({ limit: 3 });
    const read = (await rowsRead()).list - before.list;
    assert.ok(read <= 3 + channels.length, `one page of 3 read ${read} rows (not ${count})`);
    assert.deepEqual(
      first.conversations.map((c) => c.id),
      [older.id, groups[0]!.id, groups[7]!.id],
      'latest activity first: the join to a quiet group, then the latest messages',
    );
    assert.ok(first.conversations[0]!.lastActivityAt! >= older.createdAt!, 'ordered by the join');

    // every page together is the whole list, ordered as each conversation's own activity says
    const all = [...first.conversations];
    for (let cursor = first.nextCursor; cursor;) {
      const page = await me!.listConversations({ limit: 3, cursor });
      all.push(...page.conversations);
      cursor = page.nextCursor;
    }
    assert.equal(all.length, count);
    const rest = all.slice(1);
    const exact = await Promise.all(rest.map((c) => me!.getConversation(c.id)));
    assert.deepEqual(
      rest.map((c) => c.lastActivityAt),
      exact.map((c) => c.lastActivityAt),
      'the copies agree with the conversations',
    );
    assert.deepEqual(
      rest.map((c) => c.id),
      [...exact]
        .sort((x, y) =>
          y.lastActivityAt! > x.lastActivityAt!
            ? 1
            : y.lastActivityAt! < x.lastActivityAt!
              ? -1
              : x.id < y.id
                ? -1
                : 1,
        )
        .map((c) => c.id),
    );

    // a sync without cursors reads the conversations with unread messages and the channels
    const s = await me!.connect();
    try {
      const unread = [...talked.filter((c) => c.type !== 'channel')];
      const beforeSync = (await rowsRead()).sync;
      const synced = await s.sync();
      const syncRead = (await rowsRead()).sync - beforeSync;
      assert.equal(syncRead, unread.length + channels.length, 'rows read by the sync');
      assert.deepEqual(
        synced.conversations.map((c) => c.conversationId).sort(),
        [...unread, channels[0]!].map((c) => c.id).sort(),
        'and it returns every conversation with unread messages',
      );
      await me!.markRead(groups[3]!.id, 1);
      await me!.markRead(direct.id, 1);
      const again = (await rowsRead()).sync;
      assert.equal((await s.sync()).conversations.length, unread.length - 1);
      assert.equal((await rowsRead()).sync - again, unread.length - 2 + channels.length);
    } finally {
      await s.close();
    }
  });
});
