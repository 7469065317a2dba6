import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ImClient, ImSocket } from '@im/sdk';
import { Platform } from '@im/testing';
import { outcome } from './support/outcome.js';
import { closeAll, PASSWORD, username } from './support/users.js';

// Every conversation route and frame, tried by every kind of caller: who may, who gets 403 (a
// member without the role), who gets 404 (not allowed to know the conversation exists), who gets
// 401. A refusal must change nothing: the state is read back after each row.
type Actor = 'anonymous' | 'otherTenant' | 'bot' | 'nonMember' | 'member' | 'admin' | 'owner';
const ACTORS: readonly Actor[] = ['anonymous', 'otherTenant', 'bot', 'nonMember', 'member', 'admin', 'owner'];
const MEMBERS: readonly Actor[] = ['member', 'admin', 'owner'];
const ROLE_HOLDERS: readonly Actor[] = ['admin', 'owner'];

/** What `actor` must get when `allowed` may do it. */
function expected(actor: Actor, allowed: readonly Actor[], ws = false): string {
  if (allowed.includes(actor)) return 'ok';
  if (actor === 'anonymous') return '401 unauthenticated';
  const code = MEMBERS.includes(actor) ? 'forbidden' : 'not_found';
  return ws ? `ws ${code}` : `${MEMBERS.includes(actor) ? 403 : 404} ${code}`;
}

describe('authorization matrix: every conversation route and frame × every kind of caller', () => {
  let platform: Platform;
  const clients = new Map<Exclude<Actor, 'anonymous' | 'bot'>, ImClient>();
  let botKey: string;
  let tenant: string;
  let group: string;
  let memberMessage: number;

  /** A fresh user of the tenant (targets of membership changes, so rows do not interfere). */
  async function spare(): Promise<ImClient> {
    const c = new ImClient(platform.gatewayUrl(), tenant);
    await c.register(username('spare'), PASSWORD);
    return c;
  }

  async function rest(actor: Actor, method: string, path: string, body?: unknown): Promise<string> {
    if (actor === 'anonymous' || actor === 'bot') {
      const res = await fetch(`${platform.gatewayUrl()}${path}`, {
        method,
        headers: {
          ...(actor === 'bot' ? { authorization: `Bearer ${botKey}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (res.ok) return 'ok';
      const json = (await res.json().catch(() => ({}))) as { error?: { code?: string } };
      return `${res.status} ${json.error?.code ?? ''}`;
    }
    return outcome(clients.get(actor)!.call(method, path, body));
  }

  /** A new member of the conversation, for rows that remove or mute one. */
  async function memberToChange(): Promise<string> {
    const target = await spare();
    await clients
      .get('owner')!
      .call('POST', `/v1/conversations/${group}/members`, { userIds: [target.user.id] });
    return target.user.id;
  }

  /** A message by the member, for rows that use one up (delete). */
  async function freshMessage(): Promise<number> {
    const m = await clients.get('member')!.sendMessage(group, `m-${randomBytes(4).toString('hex')}`, 'x');
    return m.seq;
  }

  before(async () => {
    platform = await Platform.start();
    tenant = `authz-${randomBytes(4).toString('hex')}`;
    // the first user of a new tenant is its admin: the owner here also runs the tenant
    for (const actor of ['owner', 'admin', 'member', 'nonMember'] as const) {
      const c = new ImClient(platform.gatewayUrl(), tenant);
      await c.register(username(actor), PASSWORD);
      clients.set(actor, c);
    }
    const outsider = new ImClient(platform.gatewayUrl(), `${tenant}-other`);
    await outsider.register(username('outsider'), PASSWORD); // the admin of a tenant of its own
    clients.set('otherTenant', outsider);
    const owner = clients.get('owner')!;
    botKey = (await owner.call<{ apiKey: string }>('POST', '/v1/bots', { username: username('bot') })).apiKey;
    group = (
      await owner.createConversation(
        'group',
        [clients.get('admin')!.user.id, clients.get('member')!.user.id],
        'matrix',
      )
    ).id;
    await owner.call('PATCH', `/v1/conversations/${group}/members/${clients.get('admin')!.user.id}`, {
      role: 'admin',
    });
    memberMessage = await freshMessage();
  });
  after(() => platform?.stop());

  const conv = () => `/v1/conversations/${group}`;
  /** What every member sees of the conversation: a refusal must leave it as it was. */
  async function snapshot(): Promise<unknown> {
    const { conversation: c } = await clients.get('owner')!.call<{
      conversation: {
        title?: string;
        topic?: string;
        lastSeq: number;
        lastVersion: number;
        members: unknown[];
      };
    }>('GET', conv());
    return {
      title: c.title,
      topic: c.topic,
      lastSeq: c.lastSeq,
      lastVersion: c.lastVersion,
      members: c.members,
    };
  }

  /** Setup that may change the conversation runs first; the attempt itself must change nothing when refused. */
  const rows: Array<{
    what: string;
    allowed: readonly Actor[];
    prepare?: () => Promise<string>;
    run: (actor: Actor, prepared: string) => Promise<string>;
  }> = [
    { what: 'GET conversation', allowed: MEMBERS, run: (a) => rest(a, 'GET', conv()) },
    {
      what: 'PATCH conversation (topic)',
      allowed: ROLE_HOLDERS,
      run: (a) => rest(a, 'PATCH', conv(), { topic: `set by ${a}` }),
    },
    {
      what: 'POST members',
      allowed: ROLE_HOLDERS,
      prepare: async () => (await spare()).user.id,
      run: (a, userId) => rest(a, 'POST', `${conv()}/members`, { userIds: [userId] }),
    },
    {
      what: 'DELETE a member',
      allowed: ROLE_HOLDERS,
      prepare: memberToChange,
      run: (a, userId) => rest(a, 'DELETE', `${conv()}/members/${userId}`),
    },
    {
      what: 'PATCH a member (mute)',
      allowed: ROLE_HOLDERS,
      prepare: memberToChange,
      run: (a, userId) => rest(a, 'PATCH', `${conv()}/members/${userId}`, { muted: true }),
    },
    { what: 'GET messages', allowed: MEMBERS, run: (a) => rest(a, 'GET', `${conv()}/messages`) },
    {
      what: 'POST a message',
      allowed: MEMBERS,
      run: (a) =>
        rest(a, 'POST', `${conv()}/messages`, { clientMsgId: `c-${a}-${Date.now()}`, text: `from ${a}` }),
    },
    {
      what: "PATCH the member's message (edit: the sender only)",
      allowed: ['member'],
      run: (a) => rest(a, 'PATCH', `${conv()}/messages/${memberMessage}`, { text: `edited by ${a}` }),
    },
    {
      what: "DELETE the member's message (the sender, or a moderator)",
      allowed: ['member', 'admin', 'owner'],
      prepare: async () => String(await freshMessage()),
      run: (a, seq) => rest(a, 'DELETE', `${conv()}/messages/${seq}`),
    },
    {
      what: 'PUT a reaction',
      allowed: MEMBERS,
      run: (a) => rest(a, 'PUT', `${conv()}/messages/${memberMessage}/reactions/${encodeURIComponent('👍')}`),
    },
    {
      what: 'DELETE a reaction',
      allowed: MEMBERS,
      prepare: async () => {
        const emoji = encodeURIComponent('🔥');
        for (const a of MEMBERS)
          await rest(a, 'PUT', `${conv()}/messages/${memberMessage}/reactions/${emoji}`);
        return emoji;
      },
      run: (a, emoji) => rest(a, 'DELETE', `${conv()}/messages/${memberMessage}/reactions/${emoji}`),
    },
    {
      what: 'PUT a pin (any member in groups)',
      allowed: MEMBERS,
      run: (a) => rest(a, 'PUT', `${conv()}/pins/${memberMessage}`),
    },
    {
      what: 'DELETE a pin',
      allowed: MEMBERS,
      prepare: async () => {
        const seq = String(await freshMessage());
        await rest('owner', 'PUT', `${conv()}/pins/${seq}`);
        return seq;
      },
      run: (a, seq) => rest(a, 'DELETE', `${conv()}/pins/${seq}`),
    },
    { what: 'GET pins', allowed: MEMBERS, run: (a) => rest(a, 'GET', `${conv()}/pins`) },
    {
      what: 'GET replies',
      allowed: MEMBERS,
      run: (a) => rest(a, 'GET', `${conv()}/messages/${memberMessage}/replies`),
    },
    { what: 'POST read', allowed: MEMBERS, run: (a) => rest(a, 'POST', `${conv()}/read`, { seq: 1 }) },
    { what: 'GET receipts', allowed: MEMBERS, run: (a) => rest(a, 'GET', `${conv()}/receipts`) },
    {
      what: 'GET notification settings',
      allowed: MEMBERS,
      run: (a) => rest(a, 'GET', `${conv()}/notification-settings`),
    },
  ];

  for (const row of rows) {
    it(`REST ${row.what}`, async () => {
      const got: Record<string, string> = {};
      const want: Record<string, string> = {};
      for (const actor of ACTORS) {
        const prepared = (await row.prepare?.()) ?? '';
        const before = await snapshot();
        got[actor] = await row.run(actor, prepared);
        want[actor] = expected(actor, row.allowed);
        if (got[actor] !== 'ok')
          assert.deepEqual(await snapshot(), before, `${row.what}: refused for ${actor}, yet changed`);
      }
      assert.deepEqual(got, want);
    });
  }

  it('WebSocket frames: the same rules, as error frames', async () => {
    const sockets = new Map<Actor, ImSocket>();
    for (const actor of ACTORS.filter((a) => a !== 'anonymous'))
      sockets.set(
        actor,
        await ImSocket.connect(
          platform.wsUrl(),
          actor === 'bot'
            ? botKey
            : clients.get(actor as Exclude<Actor, 'anonymous' | 'bot'>)!.session!.accessToken,
        ),
      );
    try {
      const frames: Array<{
        type: string;
        allowed: readonly Actor[];
        payload: () => Promise<Record<string, unknown>>;
      }> = [
        {
          type: 'message.send',
          allowed: MEMBERS,
          payload: async () => ({
            conversationId: group,
            clientMsgId: randomBytes(6).toString('hex'),
            text: 'ws',
          }),
        },
        { type: 'read', allowed: MEMBERS, payload: async () => ({ conversationId: group, seq: 1 }) },
        { type: 'typing', allowed: MEMBERS, payload: async () => ({ conversationId: group }) },
        {
          type: 'reaction.add',
          allowed: MEMBERS,
          payload: async () => ({ conversationId: group, seq: memberMessage, emoji: '🎉' }),
        },
        {
          type: 'reaction.remove',
          allowed: MEMBERS,
          payload: async () => ({ conversationId: group, seq: memberMessage, emoji: '🎉' }),
        },
        {
          type: 'message.edit',
          allowed: ['member'],
          payload: async () => ({ conversationId: group, seq: memberMessage, text: 'edited over ws' }),
        },
        {
          type: 'message.delete',
          allowed: ['member', 'admin', 'owner'],
          payload: async () => ({ conversationId: group, seq: await freshMessage() }),
        },
      ];
      for (const f of frames) {
        const got: Record<string, string> = {};
        const want: Record<string, string> = {};
        for (const [actor, socket] of sockets) {
          const payload = await f.payload();
          const before = await snapshot();
          got[actor] = await outcome(socket.request(f.type as 'typing', payload as never));
          want[actor] = expected(actor, f.allowed, true);
          if (got[actor] !== 'ok')
            assert.deepEqual(await snapshot(), before, `${f.type}: refused for ${actor}, yet changed`);
        }
        assert.deepEqual(got, want, f.type);
      }
      // sync names conversations by cursor: a stranger's cursor is skipped, not refused, and the
      // answer holds nothing of the conversation
      const synced: Record<string, string> = {};
      for (const [actor, socket] of sockets) {
        const res = await socket.request('sync', {
          conversations: [{ conversationId: group, afterSeq: 0, afterVersion: 0 }],
          limit: 5,
        });
        synced[actor] = (res.conversations ?? []).some((c) => c.conversationId === group)
          ? 'sees it'
          : 'sees nothing';
      }
      assert.deepEqual(
        synced,
        Object.fromEntries(
          [...sockets.keys()].map((a) => [a, MEMBERS.includes(a) ? 'sees it' : 'sees nothing']),
        ),
      );
    } finally {
      await closeAll(sockets.values());
    }
  });

  it('things one user owns (an upload, a push device) and one tenant owns (a bot’s keys, a webhook): nobody else reaches them, and refusals change nothing', async () => {
    const member = clients.get('member')!;
    const owner = clients.get('owner')!;
    const others = (allowed: Actor, code: string) =>
      Object.fromEntries(
        ACTORS.map((a) => [a, a === allowed ? 'ok' : a === 'anonymous' ? '401 unauthenticated' : code]),
      );
    const tryAll = async (method: string, path: string, body: unknown, skip: readonly Actor[] = []) => {
      const got: Record<string, string> = {};
      for (const actor of ACTORS)
        if (!skip.includes(actor)) got[actor] = await rest(actor, method, path, body);
      return got;
    };
    const without = (o: Record<string, string>, skip: readonly Actor[]) =>
      Object.fromEntries(Object.entries(o).filter(([k]) => !skip.includes(k as Actor)));

    // an upload not sent anywhere yet: its uploader's alone
    const { mediaId } = await member.call<{ mediaId: string }>('POST', '/v1/media/uploads', {
      filename: 'notes.txt',
      contentType: 'text/plain',
      size: 5,
    });
    assert.deepEqual(
      await tryAll('GET', `/v1/media/${mediaId}`, undefined),
      others('member', '404 not_found'),
    );
    const notMember = ['member'] as const;
    assert.deepEqual(
      await tryAll('POST', `/v1/media/${mediaId}/complete`, {}, notMember),
      without(others('member', '404 not_found'), notMember),
    );
    assert.deepEqual(
      await tryAll('GET', `/v1/media/${mediaId}/parts`, undefined, notMember),
      without(others('member', '404 not_found'), notMember),
    );
    assert.equal(
      (await member.call<{ media: { status: string } }>('GET', `/v1/media/${mediaId}`)).media.status,
      'pending',
    );

    // a push device: removable by its owner only, listed to nobody else
    const device = await member.call<{ id: string }>('POST', '/v1/devices', {
      platform: 'apns',
      token: randomBytes(32).toString('hex'),
    });
    assert.deepEqual(
      await tryAll('DELETE', `/v1/devices/${device.id}`, undefined, notMember),
      without(others('member', '404 not_found'), notMember),
    );
    for (const actor of ['owner', 'admin', 'nonMember', 'otherTenant'] as const) {
      const { devices } = await clients
        .get(actor)!
        .call<{ devices: Array<{ id: string }> }>('GET', '/v1/devices');
      assert.ok(!devices.some((d) => d.id === device.id), `${actor} lists the member's device`);
    }
    const { devices } = await member.call<{ devices: Array<{ id: string }> }>('GET', '/v1/devices');
    assert.ok(
      devices.some((d) => d.id === device.id),
      'still there',
    );

    // a bot's keys: the tenant's admins only; refused rotations leave its key working
    const bot = await owner.call<{ bot: { id: string }; apiKey: string }>('POST', '/v1/bots', {
      username: username('keybot'),
    });
    const adminsOnly = { ...others('owner', '403 forbidden'), otherTenant: '404 not_found' };
    const notOwner = ['owner'] as const;
    for (const method of ['POST', 'DELETE'])
      assert.deepEqual(
        await tryAll(method, `/v1/bots/${bot.bot.id}/keys`, undefined, notOwner),
        without(adminsOnly, notOwner),
        `${method} keys`,
      );
    const asBot = await fetch(`${platform.gatewayUrl()}/v1/users/me`, {
      headers: { authorization: `Bearer ${bot.apiKey}` },
    });
    assert.equal(asBot.status, 200, 'the bot’s key still works');

    // a webhook: only its tenant's admins remove it
    const hook = await owner.call<{ webhook: { id: string } }>('POST', '/v1/webhooks', {
      url: 'https://hooks.example.com/im',
      events: ['message.created'],
    });
    assert.deepEqual(
      await tryAll('DELETE', `/v1/webhooks/${hook.webhook.id}`, undefined, notOwner),
      without(adminsOnly, notOwner),
    );
    const { webhooks } = await owner.call<{ webhooks: Array<{ id: string }> }>('GET', '/v1/webhooks');
    assert.ok(
      webhooks.some((w) => w.id === hook.webhook.id),
      'still there',
    );
  });

  it('tenant routes (users, invites, webhooks): only the tenant’s admins; another tenant’s admin reaches only their own tenant', async () => {
    // the owner runs this tenant; the outsider runs another one, so its own-tenant calls work
    const tenantAdmins = (allowedElsewhere: string) => ({
      anonymous: '401 unauthenticated',
      otherTenant: allowedElsewhere,
      bot: '403 forbidden',
      nonMember: '403 forbidden',
      member: '403 forbidden',
      admin: '403 forbidden',
      owner: 'ok',
    });
    const memberId = clients.get('member')!.user.id;
    const routes: Array<[string, string, unknown, Record<string, string>]> = [
      ['GET', '/v1/tenant/users', undefined, tenantAdmins('ok')],
      ['POST', '/v1/tenant/invites', {}, tenantAdmins('ok')],
      ['GET', '/v1/webhooks', undefined, tenantAdmins('ok')],
      // a user of this tenant, named by id from another one: not found there
      ['PATCH', `/v1/tenant/users/${memberId}`, { disabled: false }, tenantAdmins('404 not_found')],
    ];
    for (const [method, path, body, want] of routes) {
      const got: Record<string, string> = {};
      for (const actor of ACTORS) got[actor] = await rest(actor, method, path, body);
      assert.deepEqual(got, want, `${method} ${path}`);
    }
    const theirs = await clients
      .get('otherTenant')!
      .call<{ users: Array<{ user: { id: string } }> }>('GET', '/v1/tenant/users');
    const ours = new Set([...clients.values()].map((c) => c.user.id));
    ours.delete(clients.get('otherTenant')!.user.id);
    assert.ok(
      theirs.users.every((u) => !ours.has(u.user.id)),
      'no user of another tenant is listed',
    );
  });
});
