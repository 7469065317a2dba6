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

/** A tenant setting: being added to a group or channel needs the person's consent (an invitation). */
describe('group adds with consent: invitations to accept or decline', () => {
  let platform: Platform;

  before(async () => {
    platform = await Platform.start({
      shared: true,
      env: { message: { USER_MAX_OPEN_INVITATIONS: '3', INVITER_MAX_OPEN_INVITATIONS: '2' } },
    });
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
    await dave!.call('POST', `/v1/conversations/${id}/leave`); // the body is optional
    assert.equal(await outcome(dave!.getConversation(id)), '404 not_found');
  });

  it('declining is final for 30 days, whoever asks; open invitations are capped per person and per inviter; the inviter learns none of it', async () => {
    const [alice, bob, carol, dave] = await tenant(3);
    const group = (by: ImClient, title: string, memberIds: string[]) =>
      by.call<Created>('POST', '/v1/conversations', { type: 'group', memberIds, title });
    const invite = (by: ImClient, id: string, userIds: string[]) =>
      by.call<Created>('POST', `/v1/conversations/${id}/members`, { userIds });
    const invitedTo = async (c: ImClient) => (await c.invitations()).map((i) => i.conversationId).sort();

    const spam = (await group(alice!, 'spam', [bob!.user.id, carol!.user.id])).conversation.id;
    const [first] = await bob!.invitations();
    await invite(alice!, spam, [bob!.user.id]);
    assert.deepEqual(await bob!.invitations(), [first], 'an open invitation is not renewed (no new 30 days)');
    await bob!.declineInvitation(spam);
    const socket = await bob!.connect();
    try {
      const again = await invite(alice!, spam, [bob!.user.id]);
      assert.deepEqual(
        again.invitedUserIds,
        [bob!.user.id],
        'the answer does not tell the inviter bob declined',
      );
      // an admin other than the first inviter asks: still nothing
      await carol!.acceptInvitation(spam);
      await alice!.call('PATCH', `/v1/conversations/${spam}/members/${carol!.user.id}`, { role: 'admin' });
      await invite(carol!, spam, [bob!.user.id]);
      assert.deepEqual(await bob!.invitations(), [], 'no invitation written');
      // the next frame bob gets is of another conversation: none came for the declined one
      const other = (await group(alice!, 'other', [bob!.user.id])).conversation.id;
      assert.equal((await socket.waitFor('conversation.invited')).invitation!.conversationId, other);

      // alice may hold INVITER_MAX (2) of bob's invitations: "other" and one more
      const g1 = (await group(alice!, 'g1', [bob!.user.id])).conversation.id;
      const g2 = await group(alice!, 'g2', [bob!.user.id]);
      assert.deepEqual(g2.invitedUserIds, [bob!.user.id], 'not invited, and not told so');
      assert.deepEqual(await invitedTo(bob!), [g1, other].sort());
      // others still can, up to OPEN_MAX (3) in all
      const h1 = (await group(carol!, 'h1', [bob!.user.id])).conversation.id;
      await group(dave!, 'd1', [bob!.user.id]);
      assert.deepEqual(await invitedTo(bob!), [g1, h1, other].sort(), 'bob is full');
      // an invitation answered makes room
      await bob!.declineInvitation(other);
      const d2 = (await group(dave!, 'd2', [bob!.user.id])).conversation.id;
      assert.deepEqual(await invitedTo(bob!), [d2, g1, h1].sort());
    } finally {
      await closeAll([socket]);
    }
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
