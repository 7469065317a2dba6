import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ImClient, ImSocket, TenantAdmin } from '@im/sdk';
import { eventually, Platform } from '@im/testing';
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

describe('authorization matrix: every route and frame × every kind of caller', () => {
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

  /** What `actor` gets: "ok" with the answer's body, or the refusal ("<status> <code>"). */
  async function request<T>(
    actor: Actor,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ got: string; body?: T }> {
    if (actor === 'anonymous' || actor === 'bot') {
      const res = await fetch(`${platform.gatewayUrl()}${path}`, {
        method,
        headers: {
          ...(actor === 'bot' ? { authorization: `Bearer ${botKey}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const json = (await res.json().catch(() => ({}))) as T & { error?: { code?: string } };
      return res.ok ? { got: 'ok', body: json } : { got: `${res.status} ${json.error?.code ?? ''}` };
    }
    let answer: T | undefined;
    const got = await outcome(
      clients
        .get(actor)!
        .call<T>(method, path, body)
        .then((b) => (answer = b)),
    );
    return { got, body: answer };
  }

  const rest = async (actor: Actor, method: string, path: string, body?: unknown) =>
    (await request(actor, method, path, body)).got;

  /** A new member of the conversation, for rows that remove or mute one. */
  async function memberToChange(): Promise<string> {
    const target = await spare();
    await clients
      .get('owner')!
      .call('POST', `/v1/conversations/${group}/members`, { userIds: [target.user.id] });
    return target.user.id;
  }

  /** A new admin of the conversation, for rows that only the owner may apply to an admin. */
  async function adminToChange(): Promise<string> {
    const userId = await memberToChange();
    await clients
      .get('owner')!
      .call('PATCH', `/v1/conversations/${group}/members/${userId}`, { role: 'admin' });
    return userId;
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
    /** After the row: undoes what `prepare` set for every actor. */
    finish?: () => Promise<void>;
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
    {
      what: 'POST members as admins (the owner only)',
      allowed: ['owner'],
      prepare: async () => (await spare()).user.id,
      run: (a, userId) => rest(a, 'POST', `${conv()}/members`, { userIds: [userId], role: 'admin' }),
    },
    {
      what: "PATCH a member's role (the owner only)",
      allowed: ['owner'],
      prepare: memberToChange,
      run: (a, userId) => rest(a, 'PATCH', `${conv()}/members/${userId}`, { role: 'admin' }),
    },
    {
      what: 'DELETE an admin (the owner only)',
      allowed: ['owner'],
      prepare: adminToChange,
      run: (a, userId) => rest(a, 'DELETE', `${conv()}/members/${userId}`),
    },
    {
      what: 'PATCH an admin (mute; the owner only)',
      allowed: ['owner'],
      prepare: adminToChange,
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
      what: 'POST a message in announcement mode (admins and the owner)',
      allowed: ROLE_HOLDERS,
      prepare: async () => {
        await rest('owner', 'PATCH', conv(), { announcement: true });
        return '';
      },
      run: (a) =>
        rest(a, 'POST', `${conv()}/messages`, { clientMsgId: `a-${a}-${Date.now()}`, text: `from ${a}` }),
      finish: async () => {
        assert.equal(await rest('owner', 'PATCH', conv(), { announcement: false }), 'ok');
      },
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
      try {
        for (const actor of ACTORS) {
          const prepared = (await row.prepare?.()) ?? '';
          const before = await snapshot();
          got[actor] = await row.run(actor, prepared);
          want[actor] = expected(actor, row.allowed);
          if (got[actor] !== 'ok')
            assert.deepEqual(await snapshot(), before, `${row.what}: refused for ${actor}, yet changed`);
        }
      } finally {
        await row.finish?.(); // also after a failure: the rows after it start from the usual state
      }
      assert.deepEqual(got, want);
    });
  }

  it('a bot that is a member follows the member rules: it reads and writes, and changes nothing that needs a role', async () => {
    const owner = clients.get('owner')!;
    const made = await owner.call<{ bot: { id: string }; apiKey: string }>('POST', '/v1/bots', {
      username: username('memberbot'),
    });
    await owner.call('POST', `${conv()}/members`, { userIds: [made.bot.id] });
    const asBot = async (method: string, path: string, body?: unknown) => {
      const before = await snapshot();
      const res = await fetch(`${platform.gatewayUrl()}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${made.apiKey}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const json = (await res.json().catch(() => ({}))) as { error?: { code?: string } };
      const got = res.ok ? 'ok' : `${res.status} ${json.error?.code ?? ''}`;
      if (!res.ok)
        assert.deepEqual(await snapshot(), before, `${method} ${path}: refused for the bot, yet changed`);
      return got;
    };
    assert.deepEqual(
      {
        read: await asBot('GET', `${conv()}/messages`),
        send: await asBot('POST', `${conv()}/messages`, { clientMsgId: 'bot-member-1', text: 'beep' }),
        react: await asBot(
          'PUT',
          `${conv()}/messages/${memberMessage}/reactions/${encodeURIComponent('🤖')}`,
        ),
        topic: await asBot('PATCH', conv(), { topic: 'set by a bot' }),
        add: await asBot('POST', `${conv()}/members`, { userIds: [(await spare()).user.id] }),
        edit: await asBot('PATCH', `${conv()}/messages/${memberMessage}`, { text: 'edited by a bot' }),
      },
      {
        read: 'ok',
        send: 'ok',
        react: 'ok',
        topic: '403 forbidden',
        add: '403 forbidden',
        edit: '403 forbidden',
      },
    );
  });

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
      // presence: the member's socket is open; only its tenant may learn that
      const memberId = clients.get('member')!.user.id;
      const statusOf = async (id: string) =>
        (
          await clients
            .get('owner')!
            .call<{ presence: Array<{ status: string }> }>('GET', `/v1/presence?userIds=${id}`)
        ).presence[0]?.status;
      await eventually(async () => assert.equal(await statusOf(memberId), 'online'));
      const watched: Record<string, string> = {};
      for (const [actor, socket] of sockets) {
        const ack = await socket.request('presence.subscribe', { userIds: [memberId] });
        watched[actor] = ack.presence?.find((p) => p.userId === memberId)?.status ?? 'nothing';
      }
      assert.deepEqual(
        watched,
        Object.fromEntries([...sockets.keys()].map((a) => [a, a === 'otherTenant' ? 'offline' : 'online'])),
      );
      // presence.set and ping: anyone signed in, each about itself only
      const set: Record<string, string> = {};
      for (const [actor, socket] of sockets) {
        set[actor] = await outcome(
          socket.request('presence.set', { status: actor === 'member' ? 'busy' : 'away' }),
        );
        set[`${actor} ping`] = await outcome(socket.request('ping'));
      }
      assert.ok(
        Object.values(set).every((o) => o === 'ok'),
        JSON.stringify(set),
      );
      await eventually(async () => assert.equal(await statusOf(memberId), 'busy', 'the member’s own choice'));
      // auth.refresh: a token of the socket's own session only (the owner's token, tried by all)
      const ownerToken = (await clients.get('owner')!.refresh()).accessToken;
      const renewed: Record<string, string> = {};
      for (const [actor, socket] of sockets)
        renewed[actor] = await outcome(socket.request('auth.refresh', { token: ownerToken }));
      assert.deepEqual(
        renewed,
        Object.fromEntries([...sockets.keys()].map((a) => [a, a === 'owner' ? 'ok' : 'ws invalid_argument'])),
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

  /** "sees it" when `seen` holds of the answer, "sees nothing" when it does not, else the refusal. */
  async function look<T>(actor: Actor, path: string, seen: (body: T) => boolean): Promise<string> {
    const { got, body } = await request<T>(actor, 'GET', path);
    return got !== 'ok' ? got : seen(body!) ? 'sees it' : 'sees nothing';
  }
  const byActor = (f: (a: Actor) => string) => Object.fromEntries(ACTORS.map((a) => [a, f(a)]));
  const tenantMembers: readonly Actor[] = ['bot', 'nonMember', 'member', 'admin', 'owner'];

  it('per-user reads (the caller, their lists, MFA state): every signed-in caller gets their own, anonymous nobody', async () => {
    const own: Array<[string, (body: never) => boolean]> = [
      ['/v1/users/me', (b: { user: { id: string } }) => typeof b.user.id === 'string'],
      ['/v1/conversations', (b: { conversations: unknown[] }) => Array.isArray(b.conversations)],
      ['/v1/invitations', (b: { invitations: unknown[] }) => Array.isArray(b.invitations)],
      ['/v1/devices', (b: { devices: unknown[] }) => Array.isArray(b.devices)],
      ['/v1/me/notification-settings', (b: object) => typeof b === 'object'],
    ];
    for (const [path, seen] of own) {
      const got: Record<string, string> = {};
      for (const actor of ACTORS) got[actor] = await look(actor, path, seen);
      assert.deepEqual(
        got,
        byActor((a) => (a === 'anonymous' ? '401 unauthenticated' : 'sees it')),
        path,
      );
    }
    const mfa: Record<string, string> = {};
    for (const actor of ACTORS)
      mfa[actor] = await look(actor, '/v1/users/me/mfa', (b: { totp?: string }) => b.totp === 'off');
    assert.deepEqual(
      mfa,
      byActor((a) => (a === 'anonymous' ? '401 unauthenticated' : 'sees it')),
      'a second factor is off for all (a bot never has one)',
    );
    // the member's conversation list holds the group; nobody else's list does
    const lists: Record<string, string> = {};
    for (const actor of ACTORS)
      lists[actor] = await look(
        actor,
        '/v1/conversations?limit=100',
        (b: { conversations: Array<{ id: string }> }) => b.conversations.some((c) => c.id === group),
      );
    assert.deepEqual(
      lists,
      byActor((a) =>
        a === 'anonymous' ? '401 unauthenticated' : MEMBERS.includes(a) ? 'sees it' : 'sees nothing',
      ),
    );
  });

  it('looking people up (ids, username, presence): the tenant sees its own users; another tenant sees nobody', async () => {
    const member = clients.get('member')!;
    const id = member.user.id;
    const online = await ImSocket.connect(platform.wsUrl(), member.session!.accessToken);
    const seenOnline = (b: { presence: Array<{ userId: string; status: string }> }) =>
      b.presence.some((p) => p.userId === id && p.status !== 'offline');
    await eventually(
      async () => assert.equal(await look('owner', `/v1/presence?userIds=${id}`, seenOnline), 'sees it'),
      {
        timeoutMs: 10_000,
      },
    );
    const got: Record<string, Record<string, string>> = { ids: {}, username: {}, presence: {} };
    for (const actor of ACTORS) {
      got.ids![actor] = await look(actor, `/v1/users?ids=${id}`, (b: { users: Array<{ id: string }> }) =>
        b.users.some((u) => u.id === id),
      );
      got.username![actor] = await look(
        actor,
        `/v1/users/by-username/${encodeURIComponent(member.user.username)}`,
        (b: { user: { id: string } }) => b.user.id === id,
      );
      // the member is online: only its tenant may know it
      got.presence![actor] = await look(actor, `/v1/presence?userIds=${id}`, seenOnline);
    }
    await online.close();
    const inTenant = (outside: string) =>
      byActor((a) =>
        a === 'anonymous' ? '401 unauthenticated' : tenantMembers.includes(a) ? 'sees it' : outside,
      );
    assert.deepEqual(got, {
      ids: inTenant('sees nothing'),
      username: inTenant('404 not_found'),
      presence: inTenant('sees nothing'),
    });
  });

  it('search: the group’s text is found by its members only', async () => {
    const word = `matrix${randomBytes(4).toString('hex')}`;
    await clients.get('member')!.sendMessage(group, `s-${word}`, `findable ${word}`);
    const path = `/v1/search/messages?q=${word}`;
    const hit = (b: { results: unknown[] }) => b.results.length > 0;
    await eventually(async () => assert.equal(await look('owner', path, hit), 'sees it'), {
      timeoutMs: 15_000,
    });
    const got: Record<string, string> = {};
    for (const actor of ACTORS) got[actor] = await look(actor, path, hit);
    assert.deepEqual(
      got,
      byActor((a) =>
        a === 'anonymous' ? '401 unauthenticated' : MEMBERS.includes(a) ? 'sees it' : 'sees nothing',
      ),
    );
    // naming the conversation does not widen it
    const scoped: Record<string, string> = {};
    for (const actor of ACTORS) scoped[actor] = await look(actor, `${path}&conversationId=${group}`, hit);
    assert.deepEqual(
      scoped,
      byActor((a) =>
        a === 'anonymous' ? '401 unauthenticated' : MEMBERS.includes(a) ? 'sees it' : '404 not_found',
      ),
    );
  });

  it('join and leave: channels are open to their tenant; groups to nobody; leaving is for members', async () => {
    const owner = clients.get('owner')!;
    const channel = (await owner.createConversation('channel', [], 'open')).id;
    const members = async (id: string, reader = owner) =>
      (
        await reader.call<{ conversation: { members: Array<{ userId: string }> } }>(
          'GET',
          `/v1/conversations/${id}`,
        )
      ).conversation.members
        .map((m) => m.userId)
        .sort();
    const joins: Record<string, string> = {};
    const groupJoins: Record<string, string> = {};
    for (const actor of ACTORS) {
      const before = await members(channel);
      joins[actor] = await rest(actor, 'POST', `/v1/conversations/${channel}/join`);
      if (joins[actor] !== 'ok')
        assert.deepEqual(await members(channel), before, `join refused for ${actor}`);
      const groupBefore = await snapshot();
      groupJoins[actor] = await rest(actor, 'POST', `${conv()}/join`);
      if (groupJoins[actor] !== 'ok')
        assert.deepEqual(await snapshot(), groupBefore, `group join by ${actor}`);
    }
    assert.deepEqual(
      joins,
      byActor((a) =>
        a === 'anonymous' ? '401 unauthenticated' : a === 'otherTenant' ? '404 not_found' : 'ok',
      ),
    );
    // joining is adding oneself: a no-op for a group's admins, refused to its members (who may not
    // add anyone), and nothing to know about for everyone else
    const joinGroup = (a: Actor) =>
      ROLE_HOLDERS.includes(a) ? 'ok' : a === 'member' ? '403 forbidden' : '404 not_found';
    assert.deepEqual(
      groupJoins,
      byActor((a) => (a === 'anonymous' ? '401 unauthenticated' : joinGroup(a))),
    );
    // leaving a group of its own for each caller, so one leaving changes no other row
    const leaves: Record<string, string> = {};
    for (const actor of ACTORS) {
      const g = (
        await owner.createConversation(
          'group',
          [clients.get('admin')!.user.id, clients.get('member')!.user.id],
          `leave-${actor}`,
        )
      ).id;
      await owner.call('PATCH', `/v1/conversations/${g}/members/${clients.get('admin')!.user.id}`, {
        role: 'admin',
      });
      const before = await members(g);
      leaves[actor] = await rest(actor, 'POST', `/v1/conversations/${g}/leave`, {});
      // the owner who left reads no more: its admin does
      const after = await members(g, actor === 'owner' ? clients.get('admin')! : owner);
      if (leaves[actor] !== 'ok') assert.deepEqual(after, before, `leave refused for ${actor}`);
      else if (actor !== 'owner') assert.equal(after.length, before.length - 1, `${actor} left`);
    }
    assert.deepEqual(
      leaves,
      byActor((a) =>
        a === 'anonymous' ? '401 unauthenticated' : MEMBERS.includes(a) ? 'ok' : '404 not_found',
      ),
    );
  });

  it('an invitation is its invitee’s alone: nobody else sees, accepts or declines it', async () => {
    const name = `${tenant}-consent`;
    const runner = new ImClient(platform.gatewayUrl(), name);
    await runner.register(username('runner'), PASSWORD);
    const invitee = new ImClient(platform.gatewayUrl(), name);
    await invitee.register(username('invitee'), PASSWORD);
    await new TenantAdmin(runner).updateTenant({ groupAdds: 'consent' });
    const g = (await runner.createConversation('group', [invitee.user.id], 'consent')).id;
    const listed = (b: { invitations: Array<{ conversation?: { id: string }; conversationId?: string }> }) =>
      b.invitations.some((i) => (i.conversation?.id ?? i.conversationId) === g);
    const got: Record<string, Record<string, string>> = { list: {}, accept: {}, decline: {} };
    for (const actor of ACTORS) {
      got.list![actor] = await look(actor, '/v1/invitations', listed);
      got.accept![actor] = await rest(actor, 'POST', `/v1/invitations/${g}/accept`);
      got.decline![actor] = await rest(actor, 'DELETE', `/v1/invitations/${g}`);
    }
    const stranger = (refusal: string) =>
      byActor((a) => (a === 'anonymous' ? '401 unauthenticated' : refusal));
    assert.deepEqual(got, {
      list: stranger('sees nothing'),
      accept: stranger('404 not_found'),
      decline: stranger('404 not_found'),
    });
    // in the invitation's own tenant too: the inviter (a member of the group) and a bystander
    const bystander = new ImClient(platform.gatewayUrl(), name);
    await bystander.register(username('bystander'), PASSWORD);
    const insiders: Record<string, string> = {};
    for (const [who, c] of [
      ['inviter', runner],
      ['bystander', bystander],
    ] as const) {
      const { invitations: theirs } = await c.call<{ invitations: Array<{ conversation?: { id: string } }> }>(
        'GET',
        '/v1/invitations',
      );
      insiders[`${who} lists`] = theirs.some((i) => i.conversation?.id === g) ? 'sees it' : 'sees nothing';
      insiders[`${who} accepts`] = await outcome(c.call('POST', `/v1/invitations/${g}/accept`));
      insiders[`${who} declines`] = await outcome(c.call('DELETE', `/v1/invitations/${g}`));
    }
    assert.deepEqual(insiders, {
      'inviter lists': 'sees nothing',
      'inviter accepts': '404 not_found',
      'inviter declines': '404 not_found',
      'bystander lists': 'sees nothing',
      'bystander accepts': '404 not_found',
      'bystander declines': '404 not_found',
    });
    const { invitations } = await invitee.call<{ invitations: unknown[] }>('GET', '/v1/invitations');
    assert.equal(invitations.length, 1, 'the invitation is still open');
    assert.equal(await outcome(invitee.call('POST', `/v1/invitations/${g}/accept`)), 'ok');
    const { conversation } = await runner.call<{ conversation: { members: Array<{ userId: string }> } }>(
      'GET',
      `/v1/conversations/${g}`,
    );
    assert.deepEqual(
      conversation.members.map((m) => m.userId).sort(),
      [runner.user.id, invitee.user.id].sort(),
      'only the invitee joined',
    );
  });

  it('per-user writes act on the caller alone: settings, MFA steps, new conversations, uploads', async () => {
    const signedIn = (f: (a: Actor) => string) =>
      byActor((a) => (a === 'anonymous' ? '401 unauthenticated' : f(a)));
    // each member sets a level of its own, and reads back its own
    const levels: Partial<Record<Actor, string>> = { member: 'mentions', admin: 'none', owner: 'all' };
    const settings: Record<string, string> = {};
    for (const actor of ACTORS)
      settings[actor] = await rest(actor, 'PUT', `${conv()}/notification-settings`, {
        level: levels[actor] ?? 'mentions',
      });
    assert.deepEqual(
      settings,
      signedIn((a) => (MEMBERS.includes(a) ? 'ok' : '404 not_found')),
    );
    for (const actor of MEMBERS)
      assert.equal(
        await look(
          actor,
          `${conv()}/notification-settings`,
          (b: { level: string }) => b.level === levels[actor],
        ),
        'sees it',
        `${actor} reads its own level`,
      );
    // account-wide settings, each caller its own keyword
    const own: Record<string, string> = {};
    for (const actor of ACTORS)
      own[actor] = await rest(actor, 'PUT', '/v1/me/notification-settings', { keywords: [`kw${actor}`] });
    const readBack: Record<string, string> = {};
    for (const actor of ACTORS)
      readBack[actor] = await look(
        actor,
        '/v1/me/notification-settings',
        (b: { keywords?: string[] }) => b.keywords?.length === 1 && b.keywords[0] === `kw${actor}`,
      );
    assert.deepEqual({ own, readBack }, { own: signedIn(() => 'ok'), readBack: signedIn(() => 'sees it') });

    // a bot signs in with a key: it has no password to confirm, so no second factor to enrol
    const enrol: Record<string, string> = {};
    for (const actor of ACTORS)
      enrol[actor] = await rest(actor, 'POST', '/v1/users/me/mfa/totp', { password: PASSWORD });
    assert.deepEqual(
      enrol,
      signedIn((a) => (a === 'bot' ? '403 forbidden' : 'ok')),
    );
    // the later MFA steps with a wrong code: refused for everyone, each on its own account, and
    // the pending secret stays; turning off what is only pending needs no code
    const steps: Record<string, Record<string, string>> = {};
    const mfaState = async (totp: string) => {
      const out: Record<string, string> = {};
      for (const actor of ACTORS)
        out[actor] = await look(actor, '/v1/users/me/mfa', (b: { totp?: string }) => b.totp === totp);
      return out;
    };
    for (const path of ['totp/confirm', 'recovery-codes']) {
      steps[path] = {};
      for (const actor of ACTORS)
        steps[path]![actor] = await rest(actor, 'POST', `/v1/users/me/mfa/${path}`, { code: '000000' });
    }
    const pending = await mfaState('pending');
    steps.disable = {};
    for (const actor of ACTORS)
      steps.disable[actor] = await rest(actor, 'POST', '/v1/users/me/mfa/disable', { code: '000000' });
    assert.deepEqual(
      { steps, pending, off: await mfaState('off') },
      {
        steps: {
          'totp/confirm': signedIn((a) =>
            a === 'bot' ? '409 mfa_enrolment_required' : '401 invalid_mfa_code',
          ),
          'recovery-codes': signedIn(() => '409 conflict'),
          disable: signedIn(() => 'ok'),
        },
        pending: signedIn((a) => (a === 'bot' ? 'sees nothing' : 'sees it')),
        off: signedIn(() => 'sees it'),
      },
    );

    // things anyone signed in may start: a direct conversation with a user of the tenant, an upload
    const target = (await spare()).user.id;
    const starts: Record<string, Record<string, string>> = { direct: {}, upload: {}, webPushKey: {} };
    for (const actor of ACTORS) {
      starts.direct![actor] = await rest(actor, 'POST', '/v1/conversations', {
        type: 'direct',
        memberIds: [target],
      });
      starts.upload![actor] = await rest(actor, 'POST', '/v1/media/uploads', {
        filename: 'a.txt',
        contentType: 'text/plain',
        size: 5,
      });
      starts.webPushKey![actor] = await rest(actor, 'GET', '/v1/devices/webpush-key');
    }
    assert.deepEqual(starts, {
      // another tenant's user reads like no user at all
      direct: signedIn((a) => (a === 'otherTenant' ? '400 invalid_argument' : 'ok')),
      upload: signedIn(() => 'ok'),
      webPushKey: signedIn(() => 'ok'),
    });
    assert.equal(
      await rest('otherTenant', 'POST', '/v1/conversations', {
        type: 'direct',
        memberIds: ['0190c0de-0000-7000-8000-000000000000'],
      }),
      '400 invalid_argument',
      'the same answer for an id nobody has',
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
    const doomed = (await spare()).user.id;
    const hook = await clients.get('owner')!.call<{ webhook: { id: string } }>('POST', '/v1/webhooks', {
      url: 'https://hooks.example.com/dead',
      events: ['message.created'],
    });
    const routes: Array<[string, string, (a: Actor) => unknown, Record<string, string>]> = [
      ['GET', '/v1/tenant/users', () => undefined, tenantAdmins('ok')],
      ['POST', '/v1/tenant/invites', () => ({}), tenantAdmins('ok')],
      // refused callers ask for a change; the owner's own call changes nothing, so rows stay apart
      [
        'PATCH',
        '/v1/tenant',
        (a) => ({ groupAdds: a === 'owner' ? 'anyone' : 'consent' }),
        tenantAdmins('ok'),
      ],
      ['GET', '/v1/webhooks', () => undefined, tenantAdmins('ok')],
      [
        'POST',
        '/v1/webhooks',
        () => ({ url: 'https://hooks.example.com/new', events: ['message.created'] }),
        tenantAdmins('ok'),
      ],
      ['POST', '/v1/bots', (a) => ({ username: username(`bot${a.slice(0, 3)}`) }), tenantAdmins('ok')],
      // things of this tenant, named by id from another one: not found there
      [
        'PATCH',
        `/v1/tenant/users/${memberId}`,
        (a) => ({ disabled: a !== 'owner' }),
        tenantAdmins('404 not_found'),
      ],
      ['GET', `/v1/webhooks/${hook.webhook.id}/dead-letters`, () => undefined, tenantAdmins('404 not_found')],
      ['DELETE', `/v1/tenant/users/${doomed}`, () => undefined, tenantAdmins('404 not_found')],
    ];
    const owner = clients.get('owner')!;
    /** The tenant as its admin sees it: users (role, disabled), webhooks, settings. */
    const tenantState = async () => {
      const [{ users }, { webhooks }, settings] = await Promise.all([
        owner.call<{ users: Array<{ user: { id: string }; role?: string; disabled?: boolean }> }>(
          'GET',
          '/v1/tenant/users?limit=500',
        ),
        owner.call<{ webhooks: Array<{ id: string }> }>('GET', '/v1/webhooks'),
        owner.call<{ tenant: unknown }>('PATCH', '/v1/tenant', {}),
      ]);
      return { users, webhooks: webhooks.map((w) => w.id).sort(), settings };
    };
    for (const [method, path, body, want] of routes) {
      const got: Record<string, string> = {};
      for (const actor of ACTORS) {
        const before = await tenantState();
        got[actor] = await rest(actor, method, path, body(actor));
        if (got[actor] !== 'ok')
          assert.deepEqual(
            await tenantState(),
            before,
            `${method} ${path}: refused for ${actor}, yet changed`,
          );
      }
      assert.deepEqual(got, want, `${method} ${path}`);
    }
    const { users } = await clients
      .get('owner')!
      .call<{ users: Array<{ user: { id: string } }> }>('GET', '/v1/tenant/users');
    assert.ok(!users.some((u) => u.user.id === doomed), 'removed by the owner, and only then');
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
