import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Producer } from 'kafkajs';
import type { Subscription } from '@im/platform/nats';
import {
  CommandResult,
  ConversationCommand,
  ConversationEvent,
  type ChangeMembersCommand,
} from '@im/proto/events/v1';
import { ConversationsTable } from '../src/storage/conversations.table.js';
import { MembersTable } from '../src/storage/members.table.js';
import { MessageClaimsTable } from '../src/storage/message-claims.table.js';
import { MessageChangesTable } from '../src/storage/message-changes.table.js';
import { MessagesTable } from '../src/storage/messages.table.js';
import { messageFixture } from '../src/domain/message.fixture.js';
import { id, MessageServiceHarness } from './harness.js';

type ChangeMembers = ChangeMembersCommand['change'];

// The sequencer against real Kafka, Cassandra and NATS: commands go onto im.messages.v1 as the
// accepting replica would put them, results come back on a NATS reply subject.
describe('sequencer (real Kafka, Cassandra, NATS)', () => {
  let h: MessageServiceHarness;
  let producer: Producer;
  let replies: Subscription;
  const results = new Map<string, CommandResult>();
  const replySubject = `it.replies.${id()}`;

  before(async () => {
    h = await MessageServiceHarness.start();
    producer = h.kafka.producer();
    await producer.connect();
    replies = h.nats.subscribe(replySubject, {
      callback: (_err, msg) => {
        const r = CommandResult.decode(msg.data);
        results.set(r.commandId, r);
      },
    });
  });
  after(async () => {
    replies?.unsubscribe();
    await producer?.disconnect();
    await h?.stop();
  });

  /** A group conversation with these members, written as the conversation service would. */
  async function conversation(members: string[], type: 'group' | 'channel' = 'group'): Promise<string> {
    const conv = id();
    const now = new Date();
    await new ConversationsTable(h.db).insert({
      conversationId: conv,
      tenantId: 'default',
      type,
      title: 'it',
      createdBy: members[0]!,
      createdAt: now,
      memberCount: members.length,
      lastSeq: 0,
      lastActivityAt: now,
    });
    for (const [i, m] of members.entries())
      await new MembersTable(h.db).add(
        conv,
        m,
        i === 0 && type === 'channel' ? 'owner' : 'member',
        0,
        now,
        true,
      );
    return conv;
  }

  function command(conv: string, userId: string, body: ConversationCommand['command']): ConversationCommand {
    return {
      commandId: id(),
      conversationId: conv,
      caller: { userId, tenantId: 'default', sessionId: 's' },
      issuedAt: new Date().toISOString(),
      replySubject,
      command: body,
    };
  }

  const send = (conv: string, userId: string, clientMsgId: string, text: string) =>
    command(conv, userId, {
      $case: 'sendMessage',
      value: { clientMsgId, text, attachments: [], messageId: id(), mentions: [] },
    });

  /** Produces the commands in one request (so they tend to share a batch) and waits for every result. */
  async function submit(...commands: ConversationCommand[]): Promise<CommandResult[]> {
    await producer.send({
      topic: h.registry.topics.conversationCommands,
      messages: commands.map((c) => ({
        key: c.conversationId,
        value: Buffer.from(ConversationCommand.encode(c).finish()),
      })),
    });
    const deadline = Date.now() + 60_000;
    while (!commands.every((c) => results.has(c.commandId))) {
      if (Date.now() > deadline) throw new Error('the sequencer did not answer every command');
      await new Promise((r) => setTimeout(r, 20));
    }
    return commands.map((c) => results.get(c.commandId)!);
  }

  const stored = (r: CommandResult) => {
    assert.equal(r.result?.$case, 'messageStored', JSON.stringify(r.result));
    return r.result.value;
  };

  it('announces a settings change itself: every replica forgets the conversation even if nobody waited for the answer', async () => {
    const conv = await conversation(['alice', 'bob'], 'channel'); // alice owns it
    const heard: string[] = [];
    const sub = h.nats.subscribe(h.registry.subjects.membershipChanged, {
      callback: (_err, msg) => void heard.push(msg.string()),
    });
    await h.nats.flush();
    try {
      const [r] = await submit(
        command(conv, 'alice', { $case: 'updateConversation', value: { archived: true, allowed: true } }),
      );
      assert.equal(r!.result?.$case, 'conversationChanged', JSON.stringify(r!.result));
      const deadline = Date.now() + 10_000;
      while (!heard.includes(conv) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
      assert.ok(heard.includes(conv), 'the archive was announced to the replicas');
      // decided against the roles as they are: bob, a member, may not
      const [refused] = await submit(
        command(conv, 'bob', { $case: 'updateConversation', value: { archived: false, allowed: true } }),
      );
      assert.equal(refused!.result?.$case === 'error' && refused!.result.value.code, 'forbidden');
    } finally {
      sub.unsubscribe();
    }
  });

  it('numbers changes on from those a stopped run logged beyond last_version', async () => {
    const conv = await conversation(['alice', 'bob']);
    // the change log holds version 1, last_version says 0: a run stored a change and stopped
    // before its recovery point (the rows of a member's removal, say)
    const logged = new MessageChangesTable(h.db).insertStatement(conv, 1, 0);
    await h.db.execute(logged.query, logged.params);
    const [sent, edited] = await submit(
      send(conv, 'alice', 'v1', 'to edit'),
      command(conv, 'alice', {
        $case: 'editMessage',
        value: { seq: 1, text: 'edited', editWindowSeconds: 0 },
      }),
    );
    assert.equal(stored(sent!).message!.seq, 1);
    assert.equal(edited!.result?.$case, 'messageChanged', JSON.stringify(edited!.result));
    assert.equal(edited!.result.$case === 'messageChanged' && edited!.result.value.message?.version, 2);
    assert.equal((await new ConversationsTable(h.db).get(conv))!.lastVersion, 2);
  });

  it('two senders with one clientMsgId both get their message; a retry gets its own original back', async () => {
    const conv = await conversation(['alice', 'bob']);
    const first = send(conv, 'alice', '42', 'from alice');
    const [a, b] = (await submit(first, send(conv, 'bob', '42', 'from bob'))).map(stored);
    assert.deepEqual([a!.created, b!.created], [true, true]);
    assert.deepEqual(
      [a!.message!.seq, b!.message!.seq, a!.message!.text, b!.message!.text],
      [1, 2, 'from alice', 'from bob'],
    );
    const retry = stored((await submit(send(conv, 'alice', '42', 'retried')))[0]!);
    assert.equal(retry.created, false);
    assert.deepEqual(retry.message, a!.message);
    const rows = await new MessagesTable(h.db).after(conv, 0, 10, 10);
    assert.deepEqual(
      rows.map((m) => `${m.seq}:${m.senderId}:${m.text}`),
      ['1:alice:from alice', '2:bob:from bob'],
    );
    assert.equal((await new ConversationsTable(h.db).get(conv))!.lastSeq, 2);
  });

  it('a command delivered twice (a replay after a crash) keeps its seq and re-emits the same eventId', async () => {
    const conv = await conversation(['alice', 'bob']);
    const original = send(conv, 'alice', 'once', 'hello');
    const [first] = await submit(original);
    results.delete(original.commandId);
    const [again] = await submit(original); // the very same record, as Kafka redelivers it
    assert.equal(stored(again!).created, false);
    assert.deepEqual(stored(again!).message, stored(first!).message);

    const consumer = h.kafka.consumer({ groupId: `${h.registry.prefix}.it-${id()}` });
    const created: ConversationEvent[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: h.registry.topics.conversationEvents, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const e = ConversationEvent.decode(message.value!);
          if (e.conversationId === conv && e.event?.$case === 'messageCreated') created.push(e);
        },
      });
      const deadline = Date.now() + 60_000;
      while (created.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await consumer.disconnect();
    }
    assert.equal(created.length, 2, 'emitted twice');
    assert.equal(created[0]!.eventId, created[1]!.eventId, 'with one eventId');
    assert.equal(created[0]!.occurredAt, created[1]!.occurredAt);
  });

  it('a send stored up to its row but not last_seq (a crash between them): the replay writes last_seq, the last message and the members’ activity copies', async () => {
    const conv = await conversation(['alice', 'bob']);
    const messageId = id();
    const before = messageFixture(1, {
      id: messageId,
      conversationId: conv,
      senderId: 'alice',
      clientMsgId: 'crash-1',
      text: 'stored before the crash',
      createdAt: new Date(Date.now() - 1_000).toISOString(),
    });
    const claims = new MessageClaimsTable(h.db);
    await claims.write(
      claims.claimStatement(conv, { senderId: 'alice', clientMsgId: 'crash-1' }, { seq: 1, messageId }),
    );
    const row = new MessagesTable(h.db).insertStatement(before);
    await h.db.execute(row.query, row.params);

    const replayed = stored((await submit(send(conv, 'alice', 'crash-1', 'stored before the crash')))[0]!);
    assert.deepEqual([replayed.created, replayed.message!.seq], [false, 1]);
    const c = (await new ConversationsTable(h.db).get(conv))!;
    assert.deepEqual([c.lastSeq, c.lastMessage?.text], [1, 'stored before the crash']);
    const bob = (await new MembersTable(h.db).membership('bob', conv))!;
    assert.deepEqual([bob.activitySeq, bob.activityAt?.toISOString()], [1, before.createdAt]);
  });

  it('a reply to and an edit of a message sent earlier in the same batch (a replay after lost writes) are decided as the first time', async () => {
    const conv = await conversation(['alice', 'bob']);
    const root = send(conv, 'alice', 'root', 'the root');
    const reply = command(conv, 'bob', {
      $case: 'sendMessage',
      value: {
        clientMsgId: 'reply',
        text: 'a reply',
        attachments: [],
        messageId: id(),
        mentions: [],
        replyTo: 1,
      },
    });
    const edit = command(conv, 'alice', {
      $case: 'editMessage',
      value: { seq: 1, text: 'the root, edited', editWindowSeconds: 0 },
    });
    // first, a command about a seq nothing in the batch creates: refused, and it splits nothing
    const bogus = command(conv, 'bob', {
      $case: 'react',
      value: { seq: 99, emoji: '👍', add: true, maxDistinct: 20 },
    });
    const [no, r, re, ed, after] = await submit(
      bogus,
      root,
      reply,
      edit,
      send(conv, 'alice', 'after', 'after'),
    );
    assert.equal(no!.result?.$case === 'error' && no!.result.value.code, 'not_found');
    assert.deepEqual(
      [stored(r!).message!.seq, stored(re!).message!.seq, stored(after!).message!.seq],
      [1, 2, 3],
    );
    assert.equal(stored(re!).message!.replyTo?.seq, 1);
    assert.equal(ed!.result?.$case, 'messageChanged', JSON.stringify(ed!.result));
    const rows = await new MessagesTable(h.db).after(conv, 0, 10, 10);
    assert.deepEqual(
      rows.map((m) => `${m.seq}:${m.text}:${m.replyCount}`),
      ['1:the root, edited:1', '2:a reply:0', '3:after:0'],
    );
    assert.equal((await new ConversationsTable(h.db).get(conv))!.lastSeq, 3);
  });

  it('the conversation’s last message follows its edits and deletes until a newer message comes', async () => {
    const conv = await conversation(['alice', 'bob']);
    const last = async () => (await new ConversationsTable(h.db).get(conv))!.lastMessage!;
    const change = (body: ConversationCommand['command']) => submit(command(conv, 'alice', body));
    await submit(send(conv, 'alice', 'l1', 'secret'));
    await change({ $case: 'editMessage', value: { seq: 1, text: 'not so secret', editWindowSeconds: 0 } });
    assert.deepEqual([(await last()).seq, (await last()).text], [1, 'not so secret']);
    await change({ $case: 'deleteMessage', value: { seq: 1, asModerator: false } });
    assert.deepEqual([(await last()).text, (await last()).deleted], ['', true]);
    await submit(send(conv, 'alice', 'l2', 'newer'));
    assert.deepEqual([(await last()).seq, (await last()).text], [2, 'newer']);
    await submit(
      command(conv, 'bob', { $case: 'react', value: { seq: 2, emoji: '👍', add: true, maxDistinct: 20 } }),
    );
    assert.deepEqual(
      (await last()).reactions.map((r) => `${r.emoji}:${r.count}`),
      ['👍:1'],
    );
    // once a newer message is the last, a change of an older one leaves it as it is
    await submit(send(conv, 'alice', 'l3', 'newest'));
    await change({ $case: 'editMessage', value: { seq: 2, text: 'newer, edited', editWindowSeconds: 0 } });
    assert.deepEqual([(await last()).seq, (await last()).text], [3, 'newest']);
  });

  it('a muted channel member who leaves and joins again is still muted; an unmuted one is not', async () => {
    const conv = await conversation(['owner', 'mo', 'ann'], 'channel');
    const members = new MembersTable(h.db);
    const change = (userId: string, body: ChangeMembers) =>
      submit(command(conv, userId, { $case: 'changeMembers', value: { change: body } }));
    const [muted] = await change('owner', { $case: 'update', value: { userId: 'mo', muted: true } });
    assert.equal(muted!.result?.$case, 'conversationChanged', JSON.stringify(muted!.result));
    for (const u of ['mo', 'ann']) {
      await change(u, { $case: 'remove', value: { userId: u, handOverTo: '' } });
      assert.equal(await members.membership(u, conv), undefined, `${u} left`);
    }
    for (const u of ['mo', 'ann'])
      await change(u, { $case: 'add', value: { userIds: [u], role: 'member', maxMembers: 100 } });
    assert.deepEqual(
      [(await members.membership('mo', conv))?.muted, (await members.membership('ann', conv))?.muted],
      [true, false],
    );
    const listed = await members.members(conv);
    assert.deepEqual(
      listed
        .filter((m) => m.userId !== 'owner')
        .map((m) => `${m.userId}:${m.muted}`)
        .sort(),
      ['ann:false', 'mo:true'],
    );
  });

  it('read markers: forward only, clamped to the last message; a non-member is refused and gets no row', async () => {
    const conv = await conversation(['alice', 'bob']);
    await submit(send(conv, 'alice', 'a1', 'one'), send(conv, 'alice', 'a2', 'two'));
    const read = (userId: string, seq: number) =>
      command(conv, userId, { $case: 'markRead', value: { seq } });
    const [far, back, stranger] = await submit(read('bob', 99), read('bob', 1), read('mallory', 1));
    assert.deepEqual(far!.result, {
      $case: 'readMarked',
      value: { conversationId: conv, userId: 'bob', readSeq: 2, lastSeq: 2 },
    });
    assert.equal(back!.result?.$case === 'readMarked' && back!.result.value.readSeq, 2, 'never back');
    assert.deepEqual(stranger!.result, {
      $case: 'error',
      value: { code: 'not_found', message: 'no such conversation', retryAfterMs: undefined },
    });
    assert.equal(await new MembersTable(h.db).membership('mallory', conv), undefined);
    assert.equal((await new MembersTable(h.db).membership('bob', conv))!.readSeq, 2);
  });

  it('commands of an unknown kind or for a missing conversation are answered with an error, nothing stored', async () => {
    const [unknown, missing] = await submit(
      command(id(), 'alice', undefined),
      send(id(), 'alice', 'x', 'into the void'),
    );
    assert.deepEqual(unknown!.result, {
      $case: 'error',
      value: { code: 'invalid_argument', message: 'unknown command kind', retryAfterMs: undefined },
    });
    assert.equal(missing!.result?.$case === 'error' && missing!.result.value.code, 'not_found');
  });

  it('once the traffic stops, the offsets of the last commands are committed after a probe write (a restart replays none of them)', async () => {
    const conv = await conversation(['alice', 'bob']);
    await submit(send(conv, 'alice', 'idle-1', 'the last message before a quiet spell'));
    const admin = h.kafka.admin();
    await admin.connect();
    try {
      const topic = h.registry.topics.conversationCommands;
      const ends = await admin.fetchTopicOffsets(topic);
      const deadline = Date.now() + 20_000;
      for (;;) {
        const [committed] = await admin.fetchOffsets({
          groupId: h.registry.groups.messageSequencer,
          topics: [topic],
        });
        const behind = ends.filter(
          (e) =>
            committed!.partitions.find((p) => p.partition === e.partition)?.offset !== e.offset &&
            e.offset !== '0',
        );
        if (behind.length === 0) break;
        if (Date.now() > deadline)
          assert.fail(`partitions still behind after the quiet spell: ${JSON.stringify(behind)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    } finally {
      await admin.disconnect();
    }
    const probes = await h.db.execute('SELECT writer FROM store_probes');
    assert.ok(probes.rowLength >= 1, 'the sequencer wrote a probe');
  });
});
