import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ImClient, TenantAdmin } from '@im/sdk';
import { Platform } from '@im/testing';
import { outcome } from './support/outcome.js';
import { closeAll, PASSWORD, username } from './support/users.js';

interface Created {
  conversation: { id: string; members: Array<{ userId: string }> };
  invitedUserIds: string[];
}

const OPEN_MAX = 3;

/** A tenant setting: being added to a group or channel needs the person's consent (an invitation). */
describe('group adds with consent: invitations to accept or decline', () => {
  let platform: Platform;

  before(async () => {
    platform = await Platform.start({ env: { message: { USER_MAX_OPEN_INVITATIONS: String(OPEN_MAX) } } });
  });
  after(() => platform?.stop());

  /** A tenant (its first user runs it) with more users; consent on unless said otherwise. */
  async function tenant(n: number, groupAdds: 'anyone' | 'consent' = 'consent') {
    const name = `consent-${randomBytes(4).toString('hex')}`;
    const users: ImClient[] = [];
    for (let i = 0; i <= n; i++) {
      const c = new ImClient(platform.gatewayUrl(), name);
      await c.register(username(`u${i}`), PASSWORD);
      users.push(c);
    }
    const set = await new TenantAdmin(users[0]!).updateTenant({ groupAdds });
    assert.equal(set.groupAdds, groupAdds);
    return users;
  }

  it('creating a group invites the people named; they are told, see the invitation, and are not members until they accept', async () => {
    const [alice, bob] = await tenant(1);
    const socket = await bob!.connect();
    try {
      const made = await alice!.call<Created>('POST', '/v1/conversations', {
        type: 'group',
        memberIds: [bob!.user.id],
        title: 'plans',
      });
      assert.deepEqual(made.invitedUserIds, [bob!.user.id]);
      assert.deepEqual(
        made.conversation.members.map((m) => m.userId),
        [alice!.user.id],
      );
      const told = await socket.waitFor('conversation.invited');
      assert.equal(told.invitation!.conversationId, made.conversation.id);
      assert.equal(told.invitation!.title, 'plans');
      assert.equal(told.invitation!.invitedBy, alice!.user.id);
      const [listed] = await bob!.invitations();
      assert.equal(listed!.conversationId, made.conversation.id);
      assert.equal(await outcome(bob!.getConversation(made.conversation.id)), '404 not_found');
      await alice!.sendMessage(made.conversation.id, 'before', 'before bob joined');

      const joined = await bob!.acceptInvitation(made.conversation.id);
      assert.ok(joined.members!.some((m) => m.userId === bob!.user.id));
      await alice!.sendMessage(made.conversation.id, 'after', 'welcome');
      const seen = await bob!.call<{ messages: Array<{ text: string }> }>(
        'GET',
        `/v1/conversations/${made.conversation.id}/messages`,
      );
      assert.ok(seen.messages.some((m) => m.text === 'welcome'));
      assert.deepEqual(await bob!.invitations(), []);
      assert.equal(await outcome(bob!.acceptInvitation(made.conversation.id)), '404 not_found', 'used up');
    } finally {
      await closeAll([socket]);
    }
  });

  it('adding to an existing group invites; declining leaves nothing; only those who may add may invite', async () => {
    const [alice, bob, carol, dave] = await tenant(3);
    const group = await alice!.call<Created>('POST', '/v1/conversations', {
      type: 'group',
      memberIds: [],
      title: 'g',
    });
    const id = group.conversation.id;
    const added = await alice!.call<Created>('POST', `/v1/conversations/${id}/members`, {
      userIds: [carol!.user.id, bob!.user.id],
    });
    assert.deepEqual(added.invitedUserIds.sort(), [bob!.user.id, carol!.user.id].sort());
    await carol!.declineInvitation(id);
    assert.deepEqual(await carol!.invitations(), []);
    assert.equal(await outcome(carol!.acceptInvitation(id)), '404 not_found');
    assert.equal(await outcome(carol!.getConversation(id)), '404 not_found');
    assert.equal(await outcome(carol!.declineInvitation(id)), '404 not_found');

    await bob!.acceptInvitation(id);
    // bob is a plain member: members cannot add, so they cannot invite either
    assert.equal(
      await outcome(bob!.call('POST', `/v1/conversations/${id}/members`, { userIds: [dave!.user.id] })),
      '403 forbidden',
    );
    assert.deepEqual(await dave!.invitations(), [], 'a refused invitation leaves nothing');
    assert.equal(
      await outcome(
        alice!.call('POST', `/v1/conversations/${id}/members`, { userIds: [dave!.user.id], role: 'admin' }),
      ),
      '400 invalid_argument',
      'invited people join as members',
    );
  });

  it('an invitation is only as good as the inviter’s rights when it is accepted', async () => {
    const [alice, bob, erin] = await tenant(2);
    const made = await alice!.call<Created>('POST', '/v1/conversations', {
      type: 'group',
      memberIds: [bob!.user.id],
      title: 'rights',
    });
    const id = made.conversation.id;
    await bob!.acceptInvitation(id);
    await alice!.call('PATCH', `/v1/conversations/${id}/members/${bob!.user.id}`, { role: 'admin' });
    await bob!.call('POST', `/v1/conversations/${id}/members`, { userIds: [erin!.user.id] });
    await alice!.call('PATCH', `/v1/conversations/${id}/members/${bob!.user.id}`, { role: 'member' });
    assert.equal(await outcome(erin!.acceptInvitation(id)), '403 forbidden');
    assert.equal(await outcome(erin!.getConversation(id)), '404 not_found');
    assert.deepEqual(await erin!.invitations(), [], 'used up');
  });

  it('an inviter who left, or a conversation that closed: refused for good; a member who left is not added back by a repeated add', async () => {
    const [alice, bob, carol, dave] = await tenant(3);
    const made = await alice!.call<Created>('POST', '/v1/conversations', {
      type: 'group',
      memberIds: [bob!.user.id],
      title: 'leaving',
    });
    const id = made.conversation.id;
    await bob!.acceptInvitation(id);
    await alice!.call('PATCH', `/v1/conversations/${id}/members/${bob!.user.id}`, { role: 'admin' });
    await bob!.call('POST', `/v1/conversations/${id}/members`, { userIds: [carol!.user.id] });
    await bob!.call('POST', `/v1/conversations/${id}/leave`, {});
    assert.equal(await outcome(carol!.acceptInvitation(id)), '403 forbidden', 'the inviter left');
    assert.deepEqual(await carol!.invitations(), []);

    // an add of someone who is a member adds nobody: were they to leave meanwhile, they stay out
    await alice!.call('POST', `/v1/conversations/${id}/members`, { userIds: [dave!.user.id] });
    await dave!.acceptInvitation(id);
    const again = await alice!.call<Created>('POST', `/v1/conversations/${id}/members`, {
      userIds: [dave!.user.id],
    });
    assert.deepEqual(again.invitedUserIds, []);
    await dave!.call('POST', `/v1/conversations/${id}/leave`, {});
    assert.equal(await outcome(dave!.getConversation(id)), '404 not_found');
  });

  it('a declined conversation does not invite again; nobody holds more than USER_MAX_OPEN_INVITATIONS', async () => {
    const [alice, bob, carol] = await tenant(2);
    const group = async (title: string, memberIds: string[] = []) =>
      alice!.call<Created>('POST', '/v1/conversations', { type: 'group', memberIds, title });
    const invite = (id: string, userIds: string[]) =>
      alice!.call<Created>('POST', `/v1/conversations/${id}/members`, { userIds });

    const spam = await group('spam', [bob!.user.id]);
    const id = spam.conversation.id;
    assert.deepEqual(spam.invitedUserIds, [bob!.user.id]);
    assert.deepEqual((await invite(id, [bob!.user.id])).invitedUserIds, [bob!.user.id], 'renewed while open');
    await bob!.declineInvitation(id);
    const socket = await bob!.connect();
    let other: Created;
    try {
      const again = await invite(id, [bob!.user.id, carol!.user.id]);
      assert.deepEqual(again.invitedUserIds, [carol!.user.id], 'bob declined: only carol is invited');
      assert.deepEqual(await bob!.invitations(), [], 'no invitation written');
      // the next frame bob gets is the one of another conversation: none came for the declined one
      other = await group('other', [bob!.user.id]);
      const told = await socket.waitFor('conversation.invited');
      assert.equal(told.invitation!.conversationId, other.conversation.id);
    } finally {
      socket.close();
    }

    // bob now holds one open invitation ("other"); OPEN_MAX in all, then no more
    for (let i = 1; i < OPEN_MAX; i++)
      assert.deepEqual((await group(`g${i}`, [bob!.user.id])).invitedUserIds, [bob!.user.id]);
    const over = await group('one too many', [bob!.user.id, carol!.user.id]);
    assert.deepEqual(over.invitedUserIds, [carol!.user.id], 'bob is full; carol is not');
    assert.equal((await bob!.invitations()).length, OPEN_MAX);
    assert.ok(!(await bob!.invitations()).some((i) => i.conversationId === over.conversation.id));
    // answering one makes room
    await bob!.declineInvitation(other.conversation.id);
    assert.deepEqual((await invite(over.conversation.id, [bob!.user.id])).invitedUserIds, [bob!.user.id]);
  });

  it('channels stay open to join; tenants that do not ask for consent add directly', async () => {
    const [alice, bob] = await tenant(1);
    const channel = await alice!.call<Created>('POST', '/v1/conversations', {
      type: 'channel',
      memberIds: [],
      title: 'news',
    });
    await bob!.call('POST', `/v1/conversations/${channel.conversation.id}/join`);
    assert.ok((await bob!.getConversation(channel.conversation.id)).id);

    const [x, y] = await tenant(1, 'anyone');
    const direct = await x!.call<Created>('POST', '/v1/conversations', {
      type: 'group',
      memberIds: [y!.user.id],
      title: 'no consent',
    });
    assert.deepEqual(direct.invitedUserIds, []);
    assert.ok((await y!.getConversation(direct.conversation.id)).id);
    assert.equal(
      await outcome(new TenantAdmin(x!).updateTenant({ groupAdds: 'sometimes' as 'anyone' })),
      '400 invalid_argument',
    );
  });
});
