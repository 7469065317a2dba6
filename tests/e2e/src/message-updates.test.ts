import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Conversation, Message } from '@im/proto/client/v1';
import type { ImClient, ImSocket } from '@im/sdk';
import { eventually, Platform } from '@im/testing';
import { conversationEvents } from './support/events.js';
import { outcome } from './support/outcome.js';
import { closeAll, registerUsers } from './support/users.js';

/** The newest state of message `seq` a socket has seen live (message.new, then message.updated). */
function liveState(s: ImSocket, conversationId: string, seq: number): Message | undefined {
  let best: Message | undefined;
  for (const f of s.events) {
    if (f.type !== 'message.new' && f.type !== 'message.updated') continue;
    const m = f.message!;
    if (m.conversationId === conversationId && m.seq === seq && (!best || m.version >= best.version))
      best = m;
  }
  return best;
}

async function restState(c: ImClient, conversationId: string, seq: number): Promise<Message> {
  const page = await c.listMessages(conversationId, { afterSeq: seq - 1, limit: 1 });
  return page.messages[0]!;
}

/** Reactions as a comparable value (the proto3 JSON mapping leaves out false and empty fields). */
const reactions = (m: Message | undefined) =>
  (m?.reactions ?? []).map((r) => ({ emoji: r.emoji, count: r.count, me: r.me ?? false }));

describe('rich messaging: edits, deletes, reactions, pins, mentions, threads, moderation', () => {
  let platform: Platform;

  before(async () => {
    platform = await Platform.start({
      shared: true,
      env: { gateway: { SEND_RATE_PER_SEC: '100000', SEND_BURST: '100000' } },
    });
  });
  after(() => platform?.stop());

  it('reach both devices of the author and the other member live, and an offline member through sync', async () => {
    const [ana, bo, cy] = await registerUsers(platform, 3, 'upd');
    const conv = await ana!.createConversation('group', [bo!.user.id, cy!.user.id], 'updates');
    const [a1, a2, b1] = await Promise.all([ana!.connect(), ana!.connect({ auth: 'frame' }), bo!.connect()]);
    let c1: ImSocket | undefined;
    try {
      for (const text of ['first', 'second', 'third']) await a1.sendMessage(conv.id, text);
      // cy synced up to here, then went offline
      const before = await cy!.connect();
      const first = (await before.sync([{ conversationId: conv.id, afterSeq: 0 }])).conversations[0]!;
      assert.equal(first.messages?.length, 3);
      const cursor = { conversationId: conv.id, afterSeq: first.lastSeq, afterVersion: first.version };
      await before.close();

      const edited = await a1.changeMessage('message.edit', {
        conversationId: conv.id,
        seq: 1,
        text: 'first!',
      });
      assert.equal(edited.text, 'first!');
      assert.ok(edited.editedAt, 'editedAt is set');
      assert.equal(edited.version, first.version + 1);
      const liked = await b1.changeMessage('reaction.add', { conversationId: conv.id, seq: 2, emoji: '👍' });
      assert.deepEqual(reactions(liked), [{ emoji: '👍', count: 1, me: true }]);
      const deleted = await ana!.deleteMessage(conv.id, 3);
      assert.equal(deleted.deleted, true);
      assert.equal(deleted.text ?? '', '');
      const party = await ana!.react(conv.id, 2, '🎉');
      assert.deepEqual(reactions(party), [
        { emoji: '👍', count: 1, me: false },
        { emoji: '🎉', count: 1, me: true },
      ]);
      const last = party.version;

      // live: every device of every online member ends on the REST state, as that member sees it
      for (const [socket, client] of [
        [a1, ana],
        [a2, ana],
        [b1, bo],
      ] as const) {
        await eventually(() => assert.equal(liveState(socket, conv.id, 2)?.version, last), {
          what: 'the last update live',
        });
        for (const seq of [1, 2, 3]) {
          const rest = await restState(client!, conv.id, seq);
          const live = liveState(socket, conv.id, seq)!;
          assert.equal(live.text ?? '', rest.text ?? '', `text of ${seq}`);
          assert.equal(live.deleted ?? false, rest.deleted ?? false);
          assert.deepEqual(reactions(live), reactions(rest), `reactions of ${seq}`);
        }
      }
      const updates = a2.events.filter((f) => f.type === 'message.updated').map((f) => f.message!.version);
      assert.deepEqual(
        updates,
        [1, 2, 3, 4].map((i) => first.version + i),
        'versions dense, in order',
      );

      // offline member: sync returns the changed messages in their current state
      c1 = await cy!.connect();
      const synced = (await c1.sync([cursor])).conversations[0]!;
      assert.deepEqual(synced.messages ?? [], []);
      assert.equal(synced.version, last);
      const bySeq = new Map((synced.updated ?? []).map((m) => [m.seq, m]));
      assert.deepEqual([...bySeq.keys()], [1, 2, 3]);
      assert.equal(bySeq.get(1)!.text, 'first!');
      assert.deepEqual(reactions(bySeq.get(2)), [
        { emoji: '👍', count: 1, me: false },
        { emoji: '🎉', count: 1, me: false },
      ]);
      assert.equal(bySeq.get(3)!.deleted, true);
      // and nothing more once up to date
      const again = (await c1.sync([{ ...cursor, afterVersion: last }])).conversations[0]!;
      assert.deepEqual(again.updated ?? [], []);
    } finally {
      await closeAll([a1, a2, b1, ...(c1 ? [c1] : [])]);
    }
  });

  it('sync pages a long update log: hasMore until every change is in, each message once, current state', async () => {
    const [ana, bo] = await registerUsers(platform, 2, 'updpage');
    const conv = await ana!.createConversation('group', [bo!.user.id], 'paging updates');
    const sent = [];
    for (let i = 1; i <= 5; i++) sent.push(await ana!.sendMessage(conv.id, `p${i}`, `text ${i}`));
    const b = await bo!.connect();
    try {
      const start = (await b.sync([{ conversationId: conv.id, afterSeq: 0 }])).conversations[0]!;
      // 5 messages × 5 changes each: 25 versions
      for (const m of sent)
        for (const emoji of ['👍', '🎉', '🔥', '👀', '🚀']) await ana!.react(conv.id, m.seq, emoji);
      let cursor = { conversationId: conv.id, afterSeq: start.lastSeq, afterVersion: start.version };
      const seen = new Map<number, Message>();
      let pages = 0;
      for (;;) {
        const page = await b.sync([cursor], 10);
        const c = page.conversations[0]!;
        for (const m of c.updated ?? []) seen.set(m.seq, m);
        pages++;
        assert.ok(c.version > cursor.afterVersion, 'every page moves the version on');
        cursor = { ...cursor, afterVersion: c.version };
        if (!page.hasMore) break;
        assert.ok(pages < 10, 'paging ends');
      }
      assert.equal(pages, 3, '25 changes in pages of 10');
      assert.equal(cursor.afterVersion, start.version + 25);
      assert.deepEqual([...seen.keys()].sort(), [1, 2, 3, 4, 5]);
      for (const m of seen.values()) assert.equal(m.reactions?.length, 5, `current state of ${m.seq}`);
    } finally {
      await b.close();
    }
  });

  it('20 members toggling reactions on one message at once: every member ends on the same state, the REST one', async () => {
    const users = await registerUsers(platform, 20, 'storm');
    const conv = await users[0]!.createConversation(
      'group',
      users.slice(1).map((u) => u.user.id),
      'storm',
    );
    const target = await users[0]!.sendMessage(conv.id, 'hot-1', 'react to me');
    const sockets = await Promise.all(users.map((u) => u.connect()));
    try {
      const emojis = ['👍', '🎉', ':parrot:'];
      // each member adds all three, then removes the ones its index says: the final set is known
      const expectedMine = users.map((_, i) => emojis.filter((_, e) => (i >> e) % 2 === 0));
      await Promise.all(
        sockets.map(async (s, i) => {
          for (const emoji of emojis)
            await s.changeMessage('reaction.add', { conversationId: conv.id, seq: target.seq, emoji });
          for (const emoji of emojis.filter((e) => !expectedMine[i]!.includes(e)))
            await s.changeMessage('reaction.remove', { conversationId: conv.id, seq: target.seq, emoji });
        }),
      );
      const counts = new Map(emojis.map((e) => [e, expectedMine.filter((m) => m.includes(e)).length]));
      const final = await restState(users[0]!, conv.id, target.seq);
      await Promise.all(
        sockets.map((s) =>
          eventually(() => assert.equal(liveState(s, conv.id, target.seq)?.version, final.version), {
            what: 'every update delivered',
            timeoutMs: 60_000,
          }),
        ),
      );
      for (const [i, user] of users.entries()) {
        const rest = await restState(user, conv.id, target.seq);
        const expected = emojis
          .filter((e) => counts.get(e)! > 0)
          .map((emoji) => ({ emoji, count: counts.get(emoji)!, me: expectedMine[i]!.includes(emoji) }));
        assert.deepEqual(
          reactions(rest).sort((a, b) => a.emoji.localeCompare(b.emoji)),
          expected.sort((a, b) => a.emoji.localeCompare(b.emoji)),
          `REST as member ${i} sees it`,
        );
        assert.deepEqual(
          reactions(liveState(sockets[i]!, conv.id, target.seq)),
          reactions(rest),
          `live, member ${i}`,
        );
      }
    } finally {
      await closeAll(sockets);
    }
  });

  it('authorization: non-members and other tenants get not_found, non-authors forbidden; refusals change nothing', async () => {
    const [owner, member, outsider] = await registerUsers(platform, 3, 'authz');
    const [stranger] = await registerUsers(platform, 1, 'authz', `other-${Date.now()}`);
    const group = await owner!.createConversation('group', [member!.user.id], 'authz');
    const direct = await owner!.createConversation('direct', [member!.user.id]);
    const byOwner = await owner!.sendMessage(group.id, 'o-1', 'owner text');
    const byMember = await member!.sendMessage(group.id, 'm-1', 'member text');
    const inDirect = await owner!.sendMessage(direct.id, 'd-1', 'direct text');

    for (const who of [outsider!, stranger!]) {
      assert.equal(await outcome(who.editMessage(group.id, byOwner.seq, 'x')), '404 not_found');
      assert.equal(await outcome(who.deleteMessage(group.id, byOwner.seq)), '404 not_found');
      assert.equal(await outcome(who.react(group.id, byOwner.seq, '👍')), '404 not_found');
    }
    assert.equal(await outcome(member!.editMessage(group.id, byOwner.seq, 'x')), '403 forbidden');
    assert.equal(await outcome(owner!.editMessage(group.id, byMember.seq, 'x')), '403 forbidden');
    assert.equal(await outcome(member!.deleteMessage(group.id, byOwner.seq)), '403 forbidden');
    // in a direct conversation nobody moderates
    assert.equal(await outcome(member!.deleteMessage(direct.id, inDirect.seq)), '403 forbidden');
    for (const [conv, m] of [
      [group.id, byOwner],
      [direct.id, inDirect],
    ] as const) {
      const now = await restState(owner!, conv, m.seq);
      assert.equal(now.text, m.text, 'a refusal changes nothing');
      assert.equal(now.version ?? 0, 0);
    }
    // the owner of a group moderates: deletes a member's message
    const removed = await owner!.deleteMessage(group.id, byMember.seq);
    assert.equal(removed.deleted, true);
    // a deleted message cannot be edited or reacted to
    assert.equal(await outcome(member!.editMessage(group.id, byMember.seq, 'back')), '404 not_found');
    assert.equal(await outcome(owner!.react(group.id, byMember.seq, '👍')), '404 not_found');
    assert.equal((await restState(member!, group.id, byMember.seq)).text ?? '', '');
  });

  it('pins: members in groups, admins in channels; live, in sync and in the list; a delete unpins', async () => {
    const [ana, bo, cy, outsider] = await registerUsers(platform, 4, 'pins');
    const group = await ana!.createConversation('group', [bo!.user.id, cy!.user.id], 'pins');
    const channel = await ana!.createConversation('channel', [bo!.user.id], 'news');
    const [m1, m2] = [
      await ana!.sendMessage(group.id, 'p1', 'keep this'),
      await bo!.sendMessage(group.id, 'p2', 'and this'),
    ];
    const inChannel = await ana!.sendMessage(channel.id, 'p3', 'announcement');
    const cySocket = await cy!.connect();
    const offline = await (async () => {
      const s = await bo!.connect();
      const synced = (await s.sync([{ conversationId: group.id, afterSeq: 0 }])).conversations[0]!;
      await s.close();
      return { conversationId: group.id, afterSeq: synced.lastSeq, afterVersion: synced.version };
    })();
    try {
      const pinned = await bo!.pin(group.id, m1.seq);
      assert.equal(pinned.pin?.pinnedBy, bo!.user.id);
      await cySocket.waitFor(
        'message.updated',
        (f) => f.message!.seq === m1.seq && f.message!.pin !== undefined,
      );
      await ana!.pin(group.id, m2.seq);
      await ana!.pin(group.id, m2.seq); // idempotent
      assert.deepEqual(
        (await cy!.pins(group.id)).map((p) => [p.message!.seq, p.pinnedBy]),
        [
          [m2.seq, ana!.user.id],
          [m1.seq, bo!.user.id],
        ],
      );
      // bo's other device, offline meanwhile, heals with sync
      const s = await bo!.connect();
      const healed = (await s.sync([offline])).conversations[0]!;
      await s.close();
      assert.deepEqual(
        (healed.updated ?? []).map((m) => [m.seq, m.pin?.pinnedBy]),
        [
          [m1.seq, bo!.user.id],
          [m2.seq, ana!.user.id],
        ],
      );
      // unpin, and a deleted message leaves the list
      await cy!.pin(group.id, m1.seq, false);
      await bo!.deleteMessage(group.id, m2.seq);
      assert.deepEqual(await cy!.pins(group.id), []);
      // channels: only admins and the owner
      assert.equal(await outcome(bo!.pin(channel.id, inChannel.seq)), '403 forbidden');
      assert.equal((await ana!.pin(channel.id, inChannel.seq)).pin?.pinnedBy, ana!.user.id);
      // not a member, a missing seq
      assert.equal(await outcome(outsider!.pin(group.id, m1.seq)), '404 not_found');
      assert.equal(await outcome(outsider!.pins(group.id)), '404 not_found');
      assert.equal(await outcome(ana!.pin(group.id, 99)), '404 not_found');
      assert.equal(await outcome(ana!.pin(group.id, m2.seq)), '404 not_found');
    } finally {
      await cySocket.close();
    }
  });

  it('mentions: checked against membership, counted as unread mentions per member, in the sequenced event', async () => {
    const [ana, bo, cy, outsider] = await registerUsers(platform, 4, 'mention');
    const group = await ana!.createConversation('group', [bo!.user.id, cy!.user.id], 'mentions');
    const channel = await ana!.createConversation('channel', [bo!.user.id], 'announcements');
    const mentionCount = async (c: ImClient, id: string) => (await c.getConversation(id)).mentionCount ?? 0;
    const b1 = await bo!.connect();
    try {
      const first = (
        await b1.request('message.send', {
          conversationId: group.id,
          clientMsgId: 'm-1',
          text: 'ana, cy: look',
          mentions: [ana!.user.id, cy!.user.id, ana!.user.id],
        })
      ).message!;
      assert.deepEqual(first.mentions, [ana!.user.id, cy!.user.id], 'deduplicated, in order');
      await b1.request('message.send', {
        conversationId: group.id,
        clientMsgId: 'm-2',
        text: 'everyone',
        mentions: ['all'],
      });
      await b1.request('message.send', { conversationId: group.id, clientMsgId: 'm-3', text: 'no mention' });
      assert.equal(await mentionCount(ana!, group.id), 2);
      assert.equal(await mentionCount(cy!, group.id), 2);
      assert.equal(await mentionCount(bo!, group.id), 0, 'one’s own mentions of all do not count');
      const listed = (await ana!.listConversations()).conversations.find((c) => c.id === group.id)!;
      assert.equal(listed.mentionCount, 2);
      await ana!.markRead(group.id, first.seq);
      assert.equal(await mentionCount(ana!, group.id), 1, 'read mentions no longer count');

      // mentioning someone outside, or a malformed id: refused, nothing stored
      const lastSeq = (await ana!.getConversation(group.id)).lastSeq;
      assert.equal(
        await outcome(
          b1.request('message.send', {
            conversationId: group.id,
            clientMsgId: 'm-4',
            text: 'x',
            mentions: [outsider!.user.id],
          }),
        ),
        'ws invalid_argument',
      );
      assert.equal(
        await outcome(
          b1.request('message.send', {
            conversationId: group.id,
            clientMsgId: 'm-5',
            text: 'x',
            mentions: ['not an id'],
          }),
        ),
        'ws invalid_argument',
      );
      assert.equal((await ana!.getConversation(group.id)).lastSeq, lastSeq);
      // "all" in a channel: admins and the owner only
      assert.equal(
        await outcome(
          b1.request('message.send', {
            conversationId: channel.id,
            clientMsgId: 'c-1',
            text: 'x',
            mentions: ['all'],
          }),
        ),
        'ws forbidden',
      );
      const announced = await ana!.call<{ message: Message }>(
        'POST',
        `/v1/conversations/${channel.id}/messages`,
        {
          clientMsgId: 'c-2',
          text: 'hear ye',
          mentions: ['all'],
        },
      );
      assert.deepEqual(announced.message.mentions, ['all']);
      assert.equal(await mentionCount(bo!, channel.id), 1);

      // the notification service reads them from the sequenced event
      const events = await conversationEvents(platform, group.id, (es) => es.length >= 3);
      const created = events.flatMap((e) =>
        e.event?.$case === 'messageCreated' ? [e.event.value.message!] : [],
      );
      assert.deepEqual(
        created.map((m) => m.mentions),
        [[ana!.user.id, cy!.user.id], ['all'], []],
      );

      // a membership change tells every member their own view, unread mentions included
      const c1 = await cy!.connect();
      try {
        await ana!.updateMember(group.id, bo!.user.id, { role: 'admin' });
        const updated = await c1.waitFor(
          'conversation.updated',
          (f) => f.conversation?.members.some((m) => m.userId === bo!.user.id && m.role === 'admin') ?? false,
        );
        assert.equal(updated.conversation!.mentionCount, 2);
      } finally {
        await c1.close();
      }
      // a deleted message mentions nobody any more
      const deleted = await bo!.deleteMessage(group.id, first.seq);
      assert.deepEqual(deleted.mentions, []);
      assert.equal(await mentionCount(cy!, group.id), 1);
      assert.deepEqual((await cy!.allMessages(group.id)).find((m) => m.seq === first.seq)?.mentions, []);

      // a retry of a message whose mention turned invalid since (Cy left) still gets the original
      const asked = await bo!.sendMessage(group.id, 'm-6', 'cy, one more thing', { mentions: [cy!.user.id] });
      await cy!.leave(group.id);
      const again = await bo!.sendMessage(group.id, 'm-6', 'cy, one more thing', { mentions: [cy!.user.id] });
      assert.equal(again.id, asked.id);
      assert.equal(
        await outcome(bo!.sendMessage(group.id, 'm-7', 'cy?', { mentions: [cy!.user.id] })),
        '400 invalid_argument',
      );
    } finally {
      await b1.close();
    }
  });

  it('threads: replies by seq show their root, the root counts them live and through sync, the thread view pages them', async () => {
    const [ana, bo, cy] = await registerUsers(platform, 3, 'thread');
    const group = await ana!.createConversation('group', [bo!.user.id, cy!.user.id], 'threads');
    const root = await ana!.sendMessage(group.id, 't-1', 'what shall we build next?');
    const plain = await ana!.sendMessage(group.id, 't-2', 'not a thread');
    // cy synced up to here, then went offline
    const before = await cy!.connect();
    const start = (await before.sync([{ conversationId: group.id, afterSeq: 0 }])).conversations[0]!;
    await before.close();
    const [a1, a2, b1] = await Promise.all([ana!.connect(), ana!.connect({ auth: 'frame' }), bo!.connect()]);
    try {
      const first = (
        await b1.request('message.send', {
          conversationId: group.id,
          clientMsgId: 'r-1',
          text: 'a search engine',
          replyTo: root.seq,
        })
      ).message!;
      assert.deepEqual(first.replyTo, {
        seq: root.seq,
        senderId: ana!.user.id,
        preview: 'what shall we build next?',
      });
      // a reply to a reply joins the root's thread
      const second = await bo!.sendMessage(group.id, 'r-2', 'with threads', { replyTo: first.seq });
      assert.equal(second.replyTo?.seq, root.seq);
      const third = await ana!.sendMessage(group.id, 'r-3', 'agreed', { replyTo: root.seq });
      // a retry of a reply is the same message and is not counted again
      assert.equal((await ana!.sendMessage(group.id, 'r-3', 'agreed', { replyTo: root.seq })).seq, third.seq);
      // also one naming another message: the original, quoting its own root
      const retried = await ana!.sendMessage(group.id, 'r-3', 'agreed', { replyTo: plain.seq });
      assert.deepEqual(
        [retried.seq, retried.replyTo],
        [third.seq, { seq: root.seq, senderId: ana!.user.id, preview: 'what shall we build next?' }],
      );

      const counted = (m: Message | undefined) => [m?.replyCount ?? 0, m?.lastReplySeq ?? 0];
      for (const socket of [a1, a2, b1])
        await eventually(() =>
          assert.deepEqual(counted(liveState(socket, group.id, root.seq)), [3, third.seq]),
        );
      for (const socket of [a1, a2])
        await socket.waitFor(
          'message.new',
          (f) => f.message?.seq === first.seq && f.message.replyTo?.seq === root.seq,
        );
      const rest = await restState(ana!, group.id, root.seq);
      assert.deepEqual(counted(rest), [3, third.seq]);
      assert.ok(rest.lastReplyAt, 'the root carries the time of its last reply');
      // the conversation's last message, a reply, quotes its root too
      assert.deepEqual((await cy!.getConversation(group.id)).lastMessage?.replyTo, {
        seq: root.seq,
        senderId: ana!.user.id,
        preview: 'what shall we build next?',
      });

      // the thread view pages the replies, oldest first
      const page1 = await cy!.replies(group.id, root.seq, { limit: 2 });
      assert.deepEqual(
        page1.messages.map((m) => m.seq),
        [first.seq, second.seq],
      );
      assert.equal(page1.hasMore, true);
      assert.ok(page1.messages.every((m) => m.replyTo?.preview === 'what shall we build next?'));
      const page2 = await cy!.replies(group.id, root.seq, { afterSeq: second.seq });
      assert.deepEqual(
        page2.messages.map((m) => m.seq),
        [third.seq],
      );
      assert.equal(page2.hasMore ?? false, false);

      // the offline member heals through sync: the replies, and the root's new counts
      const c1 = await cy!.connect();
      try {
        const healed = (
          await c1.sync([{ conversationId: group.id, afterSeq: start.lastSeq, afterVersion: start.version }])
        ).conversations[0]!;
        assert.deepEqual(
          healed.messages?.map((m) => [m.seq, m.replyTo?.seq]),
          [
            [first.seq, root.seq],
            [second.seq, root.seq],
            [third.seq, root.seq],
          ],
        );
        assert.deepEqual(counted(healed.updated?.find((m) => m.seq === root.seq)), [3, third.seq]);
      } finally {
        await c1.close();
      }

      // replies show their root as it is now: edited, then deleted (its text never lingers)
      await ana!.editMessage(group.id, root.seq, 'what next?');
      assert.equal((await restState(bo!, group.id, first.seq)).replyTo?.preview, 'what next?');
      await ana!.deleteMessage(group.id, root.seq);
      const orphan = await restState(bo!, group.id, first.seq);
      assert.deepEqual(orphan.replyTo, { seq: root.seq, senderId: ana!.user.id, preview: '', deleted: true });
      const afterDelete = await cy!.replies(group.id, root.seq);
      assert.equal(afterDelete.messages.length, 3, 'the thread stays readable under a tombstone');
      assert.ok(afterDelete.messages.every((m) => !JSON.stringify(m).includes('what')));

      // the sequenced events: the reply names its root; the root's update says "replied"
      const events = await conversationEvents(platform, group.id, (es) =>
        es.some((e) => e.event?.$case === 'messageUpdated' && e.event.value.change === 'deleted'),
      );
      // (a retry re-emits its event under the same id: consumers keep one per id)
      const unique = [...new Map(events.map((e) => [e.eventId, e])).values()];
      const created = unique.flatMap((e) =>
        e.event?.$case === 'messageCreated' ? [e.event.value.message!] : [],
      );
      assert.deepEqual(
        created.filter((m) => m.replyTo).map((m) => m.replyTo!.seq),
        [root.seq, root.seq, root.seq],
      );
      const replied = unique.filter(
        (e) => e.event?.$case === 'messageUpdated' && e.event.value.change === 'replied',
      );
      assert.equal(replied.length, 3, 'one root update per reply, none for the retry');
    } finally {
      await closeAll([a1, a2, b1]);
    }
  });

  it('threads: bad replyTo and strangers are refused and change nothing', async () => {
    const [ana, bo, outsider] = await registerUsers(platform, 3, 'thread-bad');
    const [stranger] = await registerUsers(platform, 1, 'thread-bad', `other-${Date.now()}`);
    const group = await ana!.createConversation('group', [bo!.user.id], 'thread rules');
    const other = await ana!.createConversation('group', [bo!.user.id], 'elsewhere');
    const root = await ana!.sendMessage(group.id, 'b-1', 'root');
    for (let i = 0; i < 5; i++) await ana!.sendMessage(other.id, `o-${i}`, `other ${i}`);
    const gone = await ana!.sendMessage(group.id, 'b-2', 'to be deleted');
    await ana!.deleteMessage(group.id, gone.seq);
    const lastSeq = (await ana!.getConversation(group.id)).lastSeq;

    const send = (replyTo: unknown, key: string) =>
      outcome(
        ana!.call('POST', `/v1/conversations/${group.id}/messages`, { clientMsgId: key, text: 'x', replyTo }),
      );
    // beyond the last seq (the seq of another conversation's message), deleted, malformed
    assert.equal(await send(5, 'x-1'), '400 invalid_argument');
    assert.equal(await send(gone.seq, 'x-2'), '400 invalid_argument');
    for (const [bad, key] of [
      [0, 'x-3'],
      [-1, 'x-4'],
      ['1', 'x-5'],
      [1.5, 'x-6'],
    ] as const)
      assert.equal(await send(bad, key), '400 invalid_argument', `replyTo ${JSON.stringify(bad)}`);
    const b1 = await bo!.connect();
    try {
      assert.equal(
        await outcome(
          b1.request('message.send', {
            conversationId: group.id,
            clientMsgId: 'x-7',
            text: 'x',
            replyTo: 99,
          }),
        ),
        'ws invalid_argument',
      );
    } finally {
      await b1.close();
    }
    assert.equal((await ana!.getConversation(group.id)).lastSeq, lastSeq, 'nothing stored');
    assert.equal((await restState(ana!, group.id, root.seq)).replyCount ?? 0, 0);

    for (const who of [outsider!, stranger!]) {
      assert.equal(await outcome(who.replies(group.id, root.seq)), '404 not_found');
      assert.equal(
        await outcome(who.sendMessage(group.id, 'y', 'x', { replyTo: root.seq })),
        '404 not_found',
      );
    }
    assert.equal(await outcome(bo!.replies(group.id, lastSeq + 1)), '404 not_found');
    assert.equal(await outcome(bo!.replies(group.id, root.seq, { limit: 500 })), '400 invalid_argument');
    assert.equal(
      await outcome(bo!.call('GET', `/v1/conversations/${group.id}/messages/0/replies`)),
      '400 invalid_argument',
    );
  });

  it('moderation: promote, mute, demote, leave with hand-over; live to every member, by sync to one who was offline', async () => {
    const [ana, bo, cy, dee, outsider] = await registerUsers(platform, 5, 'moderation');
    const [stranger] = await registerUsers(platform, 1, 'moderation', `other-${Date.now()}`);
    const group = await ana!.createConversation(
      'group',
      [bo!.user.id, cy!.user.id, dee!.user.id],
      'moderated',
    );
    await ana!.sendMessage(group.id, 'md-1', 'welcome');
    // dee synced, then went offline
    const d0 = await dee!.connect();
    const start = (await d0.sync([{ conversationId: group.id, afterSeq: 0 }])).conversations[0]!;
    await d0.close();
    const [b1, c1] = await Promise.all([bo!.connect(), cy!.connect()]);
    const roleIn = (c: Conversation | undefined, userId: string) => {
      const m = c?.members.find((x) => x.userId === userId);
      return m ? `${m.role}${m.muted ? '+muted' : ''}` : 'none';
    };
    try {
      const promoted = await ana!.updateMember(group.id, bo!.user.id, { role: 'admin' });
      assert.equal(roleIn(promoted, bo!.user.id), 'admin');
      await c1.waitFor('conversation.updated', (f) => roleIn(f.conversation, bo!.user.id) === 'admin');
      // an admin mutes; only the owner changes roles
      assert.equal(
        await outcome(bo!.updateMember(group.id, cy!.user.id, { role: 'admin' })),
        '403 forbidden',
      );
      const muted = await bo!.updateMember(group.id, cy!.user.id, { muted: true });
      assert.equal(roleIn(muted, cy!.user.id), 'member+muted');
      await c1.waitFor('conversation.updated', (f) => roleIn(f.conversation, cy!.user.id) === 'member+muted');
      const lastSeq = (await ana!.getConversation(group.id)).lastSeq;
      assert.equal(await outcome(cy!.sendMessage(group.id, 'md-2', 'let me speak')), '403 forbidden');
      assert.equal(await outcome(c1.sendMessage(group.id, 'let me speak', 'md-3')), 'ws forbidden');
      assert.equal(await outcome(cy!.react(group.id, 1, '👍')), '403 forbidden');
      assert.equal((await ana!.getConversation(group.id)).lastSeq, lastSeq, 'a muted member stores nothing');
      assert.equal((await cy!.listMessages(group.id)).messages.length, 1, 'a muted member still reads');
      await bo!.updateMember(group.id, cy!.user.id, { muted: false });
      await cy!.sendMessage(group.id, 'md-4', 'thanks');

      // bad input and strangers: refused, nothing changes
      for (const body of [{ role: 'owner' }, { role: 'boss' }, {}, { muted: 'yes' }])
        assert.equal(
          await outcome(ana!.call('PATCH', `/v1/conversations/${group.id}/members/${cy!.user.id}`, body)),
          '400 invalid_argument',
          JSON.stringify(body),
        );
      assert.equal(
        await outcome(ana!.updateMember(group.id, outsider!.user.id, { muted: true })),
        '404 not_found',
      );
      for (const who of [outsider!, stranger!]) {
        assert.equal(
          await outcome(who.updateMember(group.id, cy!.user.id, { muted: true })),
          '404 not_found',
        );
        assert.equal(await outcome(who.join(group.id)), '404 not_found', 'groups are joined by invitation');
        assert.equal(await outcome(who.leave(group.id)), '404 not_found');
      }
      assert.equal(await outcome(bo!.updateMember(group.id, ana!.user.id, { muted: true })), '403 forbidden');

      // the owner leaves: the admin takes over (after a demotion, the longest-standing member would)
      await ana!.updateMember(group.id, dee!.user.id, { role: 'admin' });
      await ana!.updateMember(group.id, bo!.user.id, { role: 'member' });
      await ana!.leave(group.id);
      assert.equal(await outcome(ana!.getConversation(group.id)), '404 not_found');
      const after = await bo!.getConversation(group.id);
      assert.equal(roleIn(after, dee!.user.id), 'owner');
      assert.equal(roleIn(after, ana!.user.id), 'none');
      assert.equal(after.memberCount, 3);
      await b1.waitFor('conversation.updated', (f) => roleIn(f.conversation, dee!.user.id) === 'owner');

      // dee, offline all along, heals through sync: the conversation as it is now
      const d1 = await dee!.connect();
      try {
        const healed = (
          await d1.sync([{ conversationId: group.id, afterSeq: start.lastSeq, afterVersion: start.version }])
        ).conversations[0]!;
        assert.equal(roleIn(healed.conversation, dee!.user.id), 'owner');
        assert.equal(roleIn(healed.conversation, ana!.user.id), 'none');
        assert.equal(healed.version, after.lastVersion);
      } finally {
        await d1.close();
      }

      // downstream: one sequenced event per change, with its version
      const events = await conversationEvents(platform, group.id, (es) =>
        es.some(
          (e) => e.event?.$case === 'membersChanged' && e.event.value.removedUserIds.includes(ana!.user.id),
        ),
      );
      const leaving = events.find(
        (e) => e.event?.$case === 'membersChanged' && e.event.value.removedUserIds.includes(ana!.user.id),
      )!;
      assert.ok(leaving.event?.$case === 'membersChanged');
      assert.deepEqual(leaving.event.value.updated, [{ userId: dee!.user.id, role: 'owner', muted: false }]);
      assert.equal(leaving.event.value.version, after.lastVersion);
    } finally {
      await closeAll([b1, c1]);
    }
  });

  it('channels: members of the tenant join and leave; the last member leaving closes a group', async () => {
    const [ana, ev] = await registerUsers(platform, 2, 'channel-join');
    const [stranger] = await registerUsers(platform, 1, 'channel-join', `other-${Date.now()}`);
    const channel = await ana!.createConversation('channel', [], 'town hall');
    const joined = await ev!.join(channel.id);
    assert.equal(joined.memberCount, 2);
    assert.equal(await outcome(stranger!.join(channel.id)), '404 not_found');
    await ev!.sendMessage(channel.id, 'cj-1', 'hello');
    assert.equal((await ev!.join(channel.id)).memberCount, 2, 'joining twice changes nothing');
    await ev!.leave(channel.id);
    assert.equal(await outcome(ev!.getConversation(channel.id)), '404 not_found');
    assert.equal((await ana!.getConversation(channel.id)).memberCount, 1);

    const solo = await ev!.createConversation('group', [], 'alone');
    await ev!.leave(solo.id);
    assert.equal(await outcome(ev!.getConversation(solo.id)), '404 not_found');
    const events = await conversationEvents(platform, solo.id, (es) =>
      es.some((e) => e.event?.$case === 'membersChanged' && e.event.value.closed),
    );
    assert.ok(events.length >= 2);
  });

  it('two admins removing and promoting at once: every member ends with the same membership, the REST one', async () => {
    const users = await registerUsers(platform, 9, 'race');
    const [owner, admin1, admin2, ...rest] = users;
    const group = await owner!.createConversation(
      'group',
      users.slice(1).map((u) => u.user.id),
      'race',
    );
    await owner!.updateMember(group.id, admin1!.user.id, { role: 'admin' });
    await owner!.updateMember(group.id, admin2!.user.id, { role: 'admin' });
    const watchers = await Promise.all([owner!, ...rest.slice(4)].map((u) => u.connect()));
    try {
      const targets = rest.slice(0, 4);
      await Promise.allSettled(
        targets.flatMap((t) => [
          admin1!.removeMember(group.id, t.user.id),
          owner!.updateMember(group.id, t.user.id, { role: 'admin' }),
          admin2!.updateMember(group.id, t.user.id, { muted: true }),
          owner!.updateMember(group.id, admin2!.user.id, { role: 'member' }),
        ]),
      );
      const truth = await owner!.getConversation(group.id);
      const membership = (c: Conversation) =>
        c.members.map((m) => `${m.userId}:${m.role}:${m.muted ?? false}`).sort();
      for (const t of targets) {
        const m = truth.members.find((x) => x.userId === t.user.id);
        // removed before the promotion, or promoted first (then an admin cannot remove them)
        assert.ok(!m || m.role === 'admin' || m.role === 'member', `${t.user.id}: ${JSON.stringify(m)}`);
      }
      for (const socket of watchers) {
        await eventually(() => {
          const views = socket.events.flatMap((f) =>
            f.type === 'conversation.updated' && f.conversation?.id === group.id ? [f.conversation] : [],
          );
          // the newest view a client holds is the one with the highest lastVersion
          const newest = views.reduce(
            (a, b) => ((b.lastVersion ?? 0) >= (a?.lastVersion ?? 0) ? b : a),
            views[0],
          );
          assert.ok(newest);
          assert.equal(newest.lastVersion, truth.lastVersion);
          assert.deepEqual(membership(newest), membership(truth));
        });
      }
      for (const u of [owner!, ...rest.slice(4)])
        assert.deepEqual(membership(await u.getConversation(group.id)), membership(truth));
    } finally {
      await closeAll(watchers);
    }
  });

  it('receipts: the other members’ read markers, live and by REST; readReceipts false hides them both ways', async () => {
    const [ana, bo, cy, outsider] = await registerUsers(platform, 4, 'receipts');
    const group = await ana!.createConversation('group', [bo!.user.id, cy!.user.id], 'receipts');
    for (const n of [1, 2, 3]) await ana!.sendMessage(group.id, `r${n}`, `message ${n}`);
    const [a1, c1, c2] = await Promise.all([ana!.connect(), cy!.connect(), cy!.connect()]);
    try {
      await bo!.markRead(group.id, 2);
      await a1.waitFor('read', (f) => f.userId === bo!.user.id && f.seq === 2);
      await c1.waitFor('read', (f) => f.userId === bo!.user.id && f.seq === 2);
      const sorted = (r: Array<{ userId: string; readSeq: number }>) =>
        r.map((x) => [x.userId, x.readSeq]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
      assert.deepEqual(
        sorted(await ana!.receipts(group.id)),
        sorted([
          { userId: bo!.user.id, readSeq: 2 },
          { userId: cy!.user.id, readSeq: 0 },
        ]),
      );

      const hidden = { readReceipts: false, previews: 'full', keywords: [] };
      assert.deepEqual(await cy!.updateSettings({ readReceipts: false }), hidden);
      assert.deepEqual(await cy!.settings(), hidden);
      await cy!.markRead(group.id, 3);
      // cy's own other device hears it; ana does not, and bo's next read does not reach cy
      await c2.waitFor('read', (f) => f.userId === cy!.user.id && f.seq === 3);
      await bo!.markRead(group.id, 3);
      await a1.waitFor('read', (f) => f.userId === bo!.user.id && f.seq === 3);
      assert.equal(
        a1.events.some((f) => f.type === 'read' && f.userId === cy!.user.id),
        false,
      );
      assert.equal(
        c1.events.some((f) => f.type === 'read' && f.userId === bo!.user.id && f.seq === 3),
        false,
      );
      assert.deepEqual(sorted(await ana!.receipts(group.id)), [[bo!.user.id, 3]]);
      assert.deepEqual(await cy!.receipts(group.id), [], 'who hides theirs sees none');

      // bad input and strangers
      assert.equal(await outcome(outsider!.receipts(group.id)), '404 not_found');
      assert.equal(
        await outcome(ana!.call('PUT', '/v1/me/notification-settings', { readReceipts: 'no' })),
        '400 invalid_argument',
      );
      assert.equal(
        await outcome(ana!.call('PUT', '/v1/me/notification-settings', { previews: 'everything' })),
        '400 invalid_argument',
      );
      assert.deepEqual(
        await ana!.settings(),
        { readReceipts: true, previews: 'full', keywords: [] },
        'a refused change changes nothing',
      );
    } finally {
      await closeAll([a1, c1, c2]);
    }
  });

  it('conversation settings: admins rename, set a topic, archive (read-only) and restrict posting; live and by sync', async () => {
    const [ana, bo, cy] = await registerUsers(platform, 3, 'settings');
    const group = await ana!.createConversation('group', [bo!.user.id, cy!.user.id], 'before');
    const direct = await ana!.createConversation('direct', [bo!.user.id]);
    // a group without messages yet, as a device of Cy's last saw it
    const quiet = await ana!.createConversation('group', [cy!.user.id], 'quiet before');
    const quietCursor = { conversationId: quiet.id, afterSeq: 0, afterVersion: quiet.lastVersion };
    const m = await bo!.sendMessage(group.id, 's1', 'hello');
    const offline = await (async () => {
      const s = await cy!.connect();
      const c = (await s.sync([{ conversationId: group.id, afterSeq: 0 }])).conversations[0]!;
      await s.close();
      return { conversationId: group.id, afterSeq: c.lastSeq, afterVersion: c.version };
    })();
    const b1 = await bo!.connect();
    try {
      const renamed = await ana!.updateConversation(group.id, { title: 'after', topic: 'weekly sync' });
      assert.deepEqual(
        [renamed.title, renamed.topic, renamed.archived ?? false],
        ['after', 'weekly sync', false],
      );
      await b1.waitFor('conversation.updated', (f) => f.conversation!.title === 'after');
      // members (not admins), and anyone in a direct conversation, may not
      assert.equal(await outcome(bo!.updateConversation(group.id, { title: 'mine' })), '403 forbidden');
      assert.equal(await outcome(ana!.updateConversation(direct.id, { title: 'x' })), '403 forbidden');

      // archived: read-only for everyone, until unarchived
      await ana!.updateConversation(group.id, { archived: true });
      assert.equal(await outcome(bo!.sendMessage(group.id, 's2', 'still there?')), '403 forbidden');
      assert.equal(await outcome(ana!.sendMessage(group.id, 's3', 'me neither')), '403 forbidden');
      assert.equal(await outcome(bo!.editMessage(group.id, m.seq, 'edited')), '403 forbidden');
      assert.equal(await outcome(ana!.react(group.id, m.seq, '👍')), '403 forbidden');
      assert.equal(await outcome(ana!.pin(group.id, m.seq)), '403 forbidden');
      assert.equal((await bo!.listMessages(group.id)).messages.length, 1, 'history stays readable');
      await ana!.updateConversation(group.id, { archived: false, announcement: true });
      // announcement: only admins and the owner post
      assert.equal(await outcome(bo!.sendMessage(group.id, 's4', 'may I?')), '403 forbidden');
      assert.equal((await ana!.sendMessage(group.id, 's5', 'announcement')).seq, 2);
      assert.equal((await bo!.react(group.id, 2, '👍')).reactions?.length, 1, 'members still react');

      // the member who was offline gets the settings from sync
      const s = await cy!.connect();
      const synced = (await s.sync([offline])).conversations[0]!;
      await s.close();
      assert.deepEqual(
        [synced.conversation?.title, synced.conversation?.topic, synced.conversation?.announcement],
        ['after', 'weekly sync', true],
      );
      // also in a conversation of which the device holds no message
      await ana!.updateConversation(quiet.id, { title: 'quiet after' });
      const s2 = await cy!.connect();
      const quietSynced = (await s2.sync([quietCursor])).conversations[0]!;
      await s2.close();
      assert.equal(quietSynced.conversation?.title, 'quiet after');
      // bad input changes nothing
      assert.equal(await outcome(ana!.updateConversation(group.id, {})), '400 invalid_argument');
      assert.equal(
        await outcome(ana!.updateConversation(group.id, { title: 'x'.repeat(201) })),
        '400 invalid_argument',
      );
      assert.equal(
        await outcome(ana!.call('PATCH', `/v1/conversations/${group.id}`, { archived: 'yes' })),
        '400 invalid_argument',
      );
      assert.equal((await ana!.getConversation(group.id)).title, 'after');
    } finally {
      await b1.close();
    }
  });

  it('announcement channels: only admins and the owner post; a member who joined by themselves reads and reacts, a promoted one posts', async () => {
    const [owner, admin, reader] = await registerUsers(platform, 3, 'announce');
    const channel = await owner!.createConversation('channel', [admin!.user.id], 'news');
    await owner!.updateMember(channel.id, admin!.user.id, { role: 'admin' });
    await owner!.updateConversation(channel.id, { announcement: true });
    await reader!.join(channel.id);
    const before = (await owner!.getConversation(channel.id)).lastSeq;
    assert.equal(await outcome(reader!.sendMessage(channel.id, 'r1', 'me too')), '403 forbidden');
    const posted = await admin!.sendMessage(channel.id, 'a1', 'from an admin');
    assert.equal((await owner!.sendMessage(channel.id, 'o1', 'from the owner')).seq, posted.seq + 1);
    assert.equal((await reader!.react(channel.id, posted.seq, '👍')).reactions?.length, 1);
    assert.equal(
      (await reader!.listMessages(channel.id)).messages.length,
      before + 2,
      'the refused post was never stored',
    );
    await owner!.updateMember(channel.id, reader!.user.id, { role: 'admin' });
    assert.equal((await reader!.sendMessage(channel.id, 'r2', 'now I may')).seq, posted.seq + 2);
  });

  it('bad input: malformed emoji, over-long text, seqs out of range; nothing changes', async () => {
    const [ana, bo] = await registerUsers(platform, 2, 'badupd');
    const conv = await ana!.createConversation('group', [bo!.user.id], 'bad');
    const m = await ana!.sendMessage(conv.id, 'b-1', 'original');
    for (const emoji of ['ok', '👍👍', ':no spaces:', `:${'x'.repeat(60)}:`])
      assert.equal(await outcome(ana!.react(conv.id, m.seq, emoji)), '400 invalid_argument', emoji);
    assert.equal(await outcome(ana!.editMessage(conv.id, m.seq, 'x'.repeat(4_001))), '400 invalid_argument');
    assert.equal(await outcome(ana!.editMessage(conv.id, m.seq, '   ')), '400 invalid_argument');
    assert.equal(
      await outcome(ana!.call('PATCH', `/v1/conversations/${conv.id}/messages/0`, { text: 'x' })),
      '400 invalid_argument',
    );
    assert.equal(
      await outcome(ana!.call('PATCH', `/v1/conversations/${conv.id}/messages/abc`, { text: 'x' })),
      '400 invalid_argument',
    );
    assert.equal(
      await outcome(ana!.call('PATCH', `/v1/conversations/${conv.id}/messages/1`, { text: 7 })),
      '400 invalid_argument',
    );
    assert.equal(await outcome(ana!.editMessage(conv.id, m.seq + 1, 'beyond')), '404 not_found');
    assert.equal(await outcome(ana!.react(conv.id, m.seq + 1, '👍')), '404 not_found');
    const s = await ana!.connect();
    try {
      assert.equal(
        await outcome(s.request('reaction.add', { conversationId: conv.id, seq: m.seq, emoji: 'nope' })),
        'ws invalid_argument',
      );
      assert.equal(
        await outcome(s.request('message.edit', { conversationId: conv.id, seq: -1, text: 'x' })),
        'ws invalid_argument',
      );
      assert.equal(
        await outcome(s.request('message.delete', { conversationId: conv.id, seq: 99 })),
        'ws not_found',
      );
    } finally {
      await s.close();
    }
    const now = await restState(ana!, conv.id, m.seq);
    assert.equal(now.text, 'original');
    assert.equal(now.version ?? 0, 0);
    assert.deepEqual(now.reactions ?? [], []);
  });
});
