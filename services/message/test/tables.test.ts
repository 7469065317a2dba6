import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Statement } from '@im/platform/cassandra';
import type { Message } from '@im/proto/client/v1';
import { ConversationsTable } from '../src/storage/conversations.table.js';
import { DirectConversationsTable } from '../src/storage/direct-conversations.table.js';
import { MembersTable } from '../src/storage/members.table.js';
import { MessageClaimsTable } from '../src/storage/message-claims.table.js';
import { MessagesTable } from '../src/storage/messages.table.js';
import { membershipTimestamp } from '../src/storage/monotonic-timestamp.js';
import { id, MessageServiceHarness } from './harness.js';

// Every table of the message keyspace against real Cassandra, migrated by the service itself.
describe('message service tables (real Cassandra)', () => {
  let h: MessageServiceHarness;
  before(async () => {
    h = await MessageServiceHarness.start();
  });
  after(() => h?.stop());

  const message = (conversationId: string, seq: number, extra: Partial<Message> = {}): Message => ({
    id: id(),
    conversationId,
    seq,
    senderId: 'u1',
    clientMsgId: `c${seq}`,
    text: `text ${seq}`,
    createdAt: new Date(1_700_000_000_000 + seq).toISOString(),
    attachments: [],
    reactions: [],
    version: 0,
    mentions: [],
    replyCount: 0,
    lastReplySeq: 0,
    ...extra,
  });

  it('message_claims: one claim per (sender, clientMsgId); another sender’s same id is another claim', async () => {
    const t = new MessageClaimsTable(h.db);
    const conv = id();
    for (const [senderId, seq] of [
      ['alice', 1],
      ['bob', 2],
    ] as const) {
      const s = t.claimStatement(conv, { senderId, clientMsgId: '42' }, { seq, messageId: `m-${senderId}` });
      await h.db.execute(s.query, s.params);
    }
    assert.deepEqual(await t.get(conv, { senderId: 'alice', clientMsgId: '42' }), {
      seq: 1,
      messageId: 'm-alice',
    });
    assert.deepEqual(await t.get(conv, { senderId: 'bob', clientMsgId: '42' }), {
      seq: 2,
      messageId: 'm-bob',
    });
    assert.equal(await t.get(conv, { senderId: 'carol', clientMsgId: '42' }), undefined);
  });

  it('messages: rows across bucket boundaries, read back newest-first and oldest-first, attachments kept', async () => {
    const t = new MessagesTable(h.db);
    const conv = id();
    const attachment = {
      mediaId: 'media-1',
      name: 'a.png',
      filename: 'a.png',
      contentType: 'image/png',
      size: 42,
      width: 4,
      height: 3,
    };
    const seqs = [1, 2, 999, 1000, 1001, 2500];
    for (const seq of seqs)
      await t.insert(message(conv, seq, seq === 1000 ? { attachments: [attachment] } : {}));
    assert.deepEqual(
      (await t.before(conv, 3000, 10)).map((m) => m.seq),
      [...seqs].reverse(),
    );
    assert.deepEqual(
      (await t.after(conv, 0, 2500, 10)).map((m) => m.seq),
      seqs,
    );
    assert.deepEqual(
      (await t.after(conv, 2, 1001, 10)).map((m) => m.seq),
      [999, 1000, 1001],
      'bounded on both sides',
    );
    assert.deepEqual((await t.get(conv, 1000))!.attachments, [attachment]);
    assert.equal(await t.maxSeqIn(conv, 1), 1001);
    assert.equal(await t.get(conv, 3), undefined);
  });

  it('conversations: last_seq only moves forward, whichever write lands last', async () => {
    const t = new ConversationsTable(h.db);
    const conv = id();
    const now = new Date();
    await t.insert({
      conversationId: conv,
      tenantId: 'default',
      type: 'group',
      title: 't',
      createdBy: 'u1',
      createdAt: now,
      memberCount: 2,
      lastSeq: 0,
      lastActivityAt: now,
    });
    for (const seq of [5, 3]) {
      // 3: a stale sequencer, late
      const last = t.lastStatement(conv, seq, message(conv, seq));
      await h.db.execute(last.query, last.params, { prepare: true });
    }
    const row = (await t.get(conv))!;
    assert.equal(row.lastSeq, 5);
    assert.equal(row.lastMessage!.seq, 5, 'the last message moves with it');
    const count = t.memberCountStatement(conv, 3, 1);
    await h.db.execute(count.query, count.params);
    assert.equal((await t.get(conv))!.memberCount, 3, 'other columns are written as usual');
  });

  it('members: both sides of membership; the read marker only moves forward and outlives a removal', async () => {
    const t = new MembersTable(h.db);
    const conv = id();
    const at = new Date();
    await t.add(conv, 'alice', 'owner', 0, at, true);
    await t.add(conv, 'bob', 'member', 0, at, true);
    const mark = async (user: string, seq: number) => {
      const s = t.readSeqStatement(user, conv, seq);
      await h.db.execute(s.query, s.params);
    };
    await mark('bob', 7);
    await mark('bob', 4); // late and older
    assert.equal((await t.membership('bob', conv))!.readSeq, 7);
    assert.deepEqual((await t.members(conv)).map((m) => m.userId).sort(), ['alice', 'bob']);
    assert.equal(await t.count(conv), 2);

    const run = (statements: Statement[]) =>
      Promise.all(statements.map((st) => h.db.execute(st.query, st.params)));
    await run(t.removeStatements(conv, 'bob', membershipTimestamp(1)));
    assert.equal(await t.membership('bob', conv), undefined, 'a removed member is no member');
    assert.ok(!(await t.conversationsOf('bob')).some((c) => c.conversationId === conv));
    assert.deepEqual(
      (await t.members(conv)).map((m) => m.userId),
      ['alice'],
    );

    await run(
      t.addStatements(
        conv,
        'bob',
        'member',
        { readSeq: 2, lastSeq: 2 },
        new Date(),
        membershipTimestamp(2),
        true,
      ),
    );
    const back = (await t.membership('bob', conv))!;
    assert.equal(back.role, 'member');
    assert.equal(back.readSeq, 7, 'a re-added member keeps the larger marker');

    // decided in order, sent at once: promote, mute, remove, re-add end as decided
    await run(
      [
        ...t.updateStatements(conv, 'bob', 'admin', true, membershipTimestamp(3)),
        ...t.removeStatements(conv, 'bob', membershipTimestamp(4)),
        ...t.addStatements(
          conv,
          'bob',
          'member',
          { readSeq: 0, lastSeq: 0 },
          new Date(),
          membershipTimestamp(5),
          true,
        ),
      ].reverse(),
    );
    const again = (await t.membership('bob', conv))!;
    assert.deepEqual([again.role, again.muted], ['member', false]);
    await run(t.updateStatements(conv, 'bob', 'member', true, membershipTimestamp(6)));
    assert.equal((await t.membership('bob', conv))!.muted, true);
    assert.equal((await t.members(conv)).find((m) => m.userId === 'bob')!.muted, true);
    await run([
      ...t.removeStatements(conv, 'bob', membershipTimestamp(7)),
      ...t.updateStatements(conv, 'bob', 'admin', false, membershipTimestamp(8) - 10),
    ]);
    assert.equal(await t.membership('bob', conv), undefined, 'a late update never brings a member back');
  });

  it('members: the activity copy starts at the join, only moves forward, and channels have none', async () => {
    const t = new MembersTable(h.db);
    const conv = id();
    const channel = id();
    const joined = new Date(Date.UTC(2026, 0, 1));
    await t.add(conv, 'carol', 'owner', 0, joined, true);
    await t.add(channel, 'carol', 'owner', 0, joined, false);
    const copyOf = async (c: string) => {
      const m = (await t.membership('carol', c))!;
      return [m.activitySeq, m.activityAt?.toISOString()];
    };
    assert.deepEqual(await copyOf(conv), [0, joined.toISOString()]);
    assert.deepEqual(await copyOf(channel), [undefined, undefined], 'a channel membership has no copy');

    const run = (st: Statement) => h.db.execute(st.query, st.params);
    const at = (seq: number) => new Date(joined.getTime() + seq * 1000);
    await run(t.activityStatement('carol', conv, 9, at(9)));
    await run(t.activityStatement('carol', conv, 5, at(5))); // a stalled sequencer's late write
    assert.deepEqual(await copyOf(conv), [9, at(9).toISOString()]);
    const listed = (await t.conversationsOf('carol')).find((m) => m.conversationId === conv)!;
    assert.deepEqual([listed.activitySeq, listed.activityAt?.getTime()], [9, at(9).getTime()]);

    // removed and re-added later: the copy moves to the join
    await Promise.all(t.removeStatements(conv, 'carol', membershipTimestamp(1)).map(run));
    await Promise.all(
      t
        .addStatements(
          conv,
          'carol',
          'member',
          { readSeq: 12, lastSeq: 12 },
          at(12),
          membershipTimestamp(2),
          true,
        )
        .map(run),
    );
    assert.deepEqual(await copyOf(conv), [12, at(12).toISOString()]);
  });

  it('direct_conversations: the first claim of a pair wins, later ones get it back', async () => {
    const t = new DirectConversationsTable(h.db);
    const pair = `${id()}:${id()}`;
    const first = await t.claim('default', pair, 'conv-a');
    const second = await t.claim('default', pair, 'conv-b');
    assert.deepEqual(first, { conversationId: 'conv-a', created: true });
    assert.deepEqual(second, { conversationId: 'conv-a', created: false });
    assert.deepEqual(await t.claim('other-tenant', pair, 'conv-c'), {
      conversationId: 'conv-c',
      created: true,
    });
  });
});
