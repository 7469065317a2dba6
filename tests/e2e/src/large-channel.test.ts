import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NatsConnection } from '@im/platform/nats';
import { createRegistry } from '@im/platform/registry';
import { LiveEvent } from '@im/proto/events/v1';
import { ImClient, type ImSocket } from '@im/sdk';
import { eventually, Platform } from '@im/testing';
import { closeAll, PASSWORD, registerUsers } from './support/users.js';
import { runnerNats } from './support/nats.js';

const THRESHOLD = 4;

/**
 * Large conversations (ADR 0007): from LIVE_CONVERSATION_FANOUT_MIN_MEMBERS on, a new message is
 * published once for the conversation and every gateway writes it to its own connected members.
 */
describe('large-conversation fan-out: one publish per message, every gateway delivers to its members only', () => {
  let platform: Platform;
  let nats: NatsConnection;
  const published = { conversation: 0, user: 0, userUpdates: 0 };

  before(async () => {
    platform = await Platform.start({
      gateways: 2,
      env: { message: { LIVE_CONVERSATION_FANOUT_MIN_MEMBERS: String(THRESHOLD) } },
    });
    nats = await runnerNats('e2e-large-channel');
    const subjects = createRegistry(platform.prefix).subjects;
    nats.subscribe(subjects.liveConversations, {
      callback: () => {
        published.conversation++;
      },
    });
    nats.subscribe(subjects.liveUser('*'), {
      callback: (_err, msg) => {
        published.user++;
        if (LiveEvent.decode(msg.data).event?.$case === 'messageUpdated') published.userUpdates++;
      },
    });
  });
  after(async () => {
    await nats?.close();
    await platform?.stop();
  });

  /** Every message.new a socket got in the conversation, by seq. */
  function received(socket: ImSocket, conversationId: string): number[] {
    return socket.messagesOf(conversationId).map((m) => Number(m.seq));
  }

  it('members on both gateways get each message once; an outsider on the same gateway gets nothing; one publish per message', async () => {
    const [owner, a, b, outsider] = await registerUsers(platform, 4, 'bigch');
    const [c, d, outsider1] = await registerUsers(platform, 3, 'bigch', undefined, 1);
    const channel = await owner!.createConversation(
      'channel',
      [a, b, c, d].map((u) => u!.user.id),
      'announcements',
    );
    const sockets = await Promise.all([a, b, outsider, c, d, outsider1].map((u) => u!.connect()));
    const [sa, sb, so, sc, sd, so1] = sockets;
    try {
      const before = { ...published };
      const sent = [];
      for (let i = 0; i < 5; i++) sent.push(await owner!.sendMessage(channel.id, `m${i}`, `hello ${i}`));
      const seqs = sent.map((m) => Number(m.seq));
      for (const s of [sa, sb, sc, sd])
        await eventually(() => assert.deepEqual(received(s!, channel.id), seqs, 'each once, in order'));
      assert.deepEqual(received(so!, channel.id), [], 'not a member: nothing (gateway 0)');
      assert.deepEqual(received(so1!, channel.id), [], 'not a member: nothing (gateway 1)');
      await eventually(() => assert.equal(published.conversation - before.conversation, 5));
      assert.equal(published.user - before.user, 0, 'no per-member publish for a new message');
    } finally {
      await closeAll(sockets);
    }
  });

  it('membership changes take effect for the next message: a removed member gets nothing more, an added one starts getting them', async () => {
    const [owner, a, b, c, late] = await registerUsers(platform, 5, 'bigch');
    const channel = await owner!.createConversation(
      'channel',
      [a, b, c].map((u) => u!.user.id),
      'changes',
    );
    const sockets = await Promise.all([a, b, c, late].map((u) => u!.connect()));
    const [sa, sb, sc, sl] = sockets;
    const seqOf = async (text: string) => Number((await owner!.sendMessage(channel.id, text, text)).seq);
    try {
      const first = await seqOf('first');
      await eventually(() => assert.deepEqual(received(sc!, channel.id), [first]));
      await owner!.removeMember(channel.id, c!.user.id);
      await owner!.addMembers(channel.id, [late!.user.id]);
      const second = await seqOf('second');
      for (const s of [sa, sb, sl])
        await eventually(() => assert.ok(received(s!, channel.id).includes(second)));
      // the membership events were sequenced between the two messages; nothing after them for c
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(received(sc!, channel.id), [first], 'removed: no more messages');
      assert.deepEqual(received(sl!, channel.id), [second], 'added: from the next message on');
    } finally {
      await closeAll(sockets);
    }
  });

  it('settings and membership changes reach every member on both gateways with one publish, as a shared view; a removed member gets its own last view, an added one its own first', async () => {
    const [owner, a, b, gone] = await registerUsers(platform, 4, 'bigset');
    const [c, d] = await registerUsers(platform, 2, 'bigset', undefined, 1);
    const everyone = [a, b, c, d, gone];
    const channel = await owner!.createConversation(
      'channel',
      everyone.map((u) => u!.user.id),
      'settings',
    );
    const sockets = await Promise.all(everyone.map((u) => u!.connect()));
    try {
      const before = { ...published };
      await owner!.updateConversation(channel.id, { topic: 'read this' });
      for (const s of sockets) {
        const f = await s.waitFor('conversation.updated', (x) => x.conversation?.topic === 'read this');
        assert.deepEqual(
          [f.conversation!.shared, f.conversation!.readSeq, f.conversation!.memberCount],
          [true, 0, 6],
          'one view for everyone, with nobody’s read marker',
        );
      }
      await eventually(() => assert.equal(published.conversation - before.conversation, 1));
      assert.equal(published.user - before.user, 0, 'no per-member publish');

      const removal = { ...published };
      await owner!.removeMember(channel.id, gone!.user.id);
      const last = await sockets[4]!.waitFor(
        'conversation.updated',
        (x) => x.conversation?.memberCount === 5 && !x.conversation.shared,
      );
      assert.equal(
        last.conversation!.readSeq,
        last.conversation!.lastSeq,
        'the removed member’s own last view',
      );
      for (const s of sockets.slice(0, 4))
        await s.waitFor(
          'conversation.updated',
          (x) => x.conversation?.memberCount === 5 && x.conversation.shared,
        );
      await eventually(() => assert.equal(published.conversation - removal.conversation, 1));
      assert.ok(published.user - removal.user <= 1, 'a per-member publish only to the removed member');

      // an added member gets its own first view, whether or not its gateway knows it as a member yet
      const [late] = await registerUsers(platform, 1, 'bigset', undefined, 1);
      const lateSocket = await late!.connect();
      sockets.push(lateSocket);
      const addition = { ...published };
      await owner!.addMembers(channel.id, [late!.user.id]);
      const first = await lateSocket.waitFor(
        'conversation.updated',
        (x) => x.conversation?.memberCount === 6 && !x.conversation.shared,
      );
      assert.equal(first.conversation!.id, channel.id, 'the added member’s own view');
      await eventually(() => assert.equal(published.conversation - addition.conversation, 1));
      assert.ok(published.user - addition.user <= 1, 'a per-member publish only to the added member');
    } finally {
      await closeAll(sockets);
    }
  });

  it('edits and reactions reach every member with one publish, as a shared view; the reactor’s devices also get their own', async () => {
    const [owner, a, b] = await registerUsers(platform, 3, 'bigupd');
    const [c] = await registerUsers(platform, 1, 'bigupd', undefined, 1);
    const channel = await owner!.createConversation(
      'channel',
      [a, b, c].map((u) => u!.user.id),
      'updates',
    );
    const secondDevice = new ImClient(platform.gatewayUrl(1));
    await secondDevice.login(a!.user.username, PASSWORD);
    const sockets = await Promise.all([...[a, b, c].map((u) => u!.connect()), secondDevice.connect()]);
    const [, sb, sc, sa2] = sockets;
    try {
      const m = await owner!.sendMessage(channel.id, 'u1', 'react to me');
      const seq = Number(m.seq);
      await b!.react(channel.id, seq, '👍');
      await sc!.waitFor('message.updated', (x) => x.message?.reactions[0]?.count === 1);
      await new Promise((r) => setTimeout(r, 300)); // b's own view, published after the shared one
      const before = { ...published };
      await a!.react(channel.id, seq, '👍');
      for (const s of sockets) {
        const f = await s.waitFor(
          'message.updated',
          (x) => x.message?.reactions[0]?.count === 2 && x.message.shared === true,
        );
        assert.deepEqual(
          [f.message!.shared, f.message!.reactions[0]!.me],
          [true, false],
          'one view for everyone, with nobody’s `me`',
        );
      }
      const own = await sa2!.waitFor(
        'message.updated',
        (x) => x.message?.reactions[0]?.count === 2 && !x.message.shared,
      );
      assert.equal(own.message!.reactions[0]!.me, true, 'the reactor’s other device: its own view');
      await eventually(() => {
        assert.equal(published.conversation - before.conversation, 1);
        assert.equal(published.userUpdates - before.userUpdates, 1, 'one per-member publish: to the reactor');
      });
      for (const s of [sb, sc])
        assert.equal(
          s!.events.filter(
            (f) => f.type === 'message.updated' && f.message?.reactions[0]?.count === 2 && !f.message.shared,
          ).length,
          0,
          'nobody else gets a view of their own',
        );

      const edits = { ...published };
      await owner!.editMessage(channel.id, seq, 'edited');
      for (const s of sockets)
        await s.waitFor('message.updated', (x) => x.message?.text === 'edited' && x.message.shared === true);
      await eventually(() => assert.equal(published.conversation - edits.conversation, 1));
      assert.equal(
        published.userUpdates - edits.userUpdates,
        0,
        'an edit changes nobody’s `me`: no per-member publish',
      );
    } finally {
      await closeAll(sockets);
    }
  });

  it('small conversations keep the per-member path', async () => {
    const [x, y] = await registerUsers(platform, 2, 'smallch');
    const conv = await x!.createConversation('group', [y!.user.id], 'two');
    const sy = await y!.connect();
    try {
      const before = { ...published };
      const sent = await x!.sendMessage(conv.id, 'only', 'just us');
      await sy.waitFor('message.new', (f) => f.message?.seq === sent.seq);
      assert.equal(published.conversation - before.conversation, 0);
      assert.ok(published.user - before.user >= 2, 'one publish per member');
    } finally {
      await closeAll([sy]);
    }
  });
});
