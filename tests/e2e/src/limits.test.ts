import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Message } from '@im/proto/client/v1';
import { ApiError, ImClient, ImSocket } from '@im/sdk';
import { eventually, Platform, sleep, type ServiceProcess } from '@im/testing';
import { outcome } from './support/outcome.js';
import { retrying } from './support/retry.js';
import { closeAll, PASSWORD, registerUsers, username } from './support/users.js';

// The README's claims about load shedding, login throttling per IP and drains with work in flight.
const unlimited = { SEND_RATE_PER_SEC: '100000', SEND_BURST: '100000' };
const PER_IP_LIMIT = 3;
const WINDOW_SEC = 10;

type Outcome = { ok: true; m: Message } | { ok: false; e: ApiError };

async function settle(sends: Array<Promise<Message>>): Promise<Outcome[]> {
  return Promise.all(
    sends.map((p) =>
      p.then(
        (m): Outcome => ({ ok: true, m }),
        (e: unknown): Outcome => {
          if (!(e instanceof ApiError)) throw e;
          return { ok: false, e };
        },
      ),
    ),
  );
}

describe('limits and drains', () => {
  let platform: Platform;

  before(async () => {
    platform = await Platform.start({
      env: {
        gateway: { ...unlimited, TRUSTED_PROXIES: '127.0.0.1' },
        message: { MAX_PENDING_COMMANDS: '10', USER_MAX_CONVERSATIONS: '3' },
        auth: {
          LOGIN_MAX_FAILURES_PER_IP: String(PER_IP_LIMIT),
          LOGIN_FAILURE_WINDOW_SEC: String(WINDOW_SEC),
        },
      },
    });
  });
  after(() => platform?.stop());

  /** Fires every send at once; the refused ones must have changed nothing. */
  async function burst(
    gw: ServiceProcess | undefined,
    sockets: number,
    perSocket: number,
  ): Promise<{ outcomes: Outcome[]; history: Message[] }> {
    const users = await registerUsers(platform, sockets, 'burst');
    const conv = await users[0]!.createConversation(
      'group',
      users.slice(1).map((u) => u.user.id),
      'burst',
    );
    const url = gw ? `ws://${gw.address('publicPort')}/v1/ws` : platform.wsUrl();
    const conns = await Promise.all(users.map((u) => ImSocket.connect(url, u.session!.accessToken)));
    try {
      const outcomes = await settle(
        conns.flatMap((s, i) =>
          Array.from({ length: perSocket }, (_, n) => s.sendMessage(conv.id, `s${i} #${n}`, `b-${i}-${n}`)),
        ),
      );
      const history = await users[0]!.allMessages(conv.id);
      const acked = outcomes.flatMap((o) => (o.ok ? [o.m] : []));
      assert.deepEqual(
        history.map((m) => m.seq),
        Array.from({ length: acked.length }, (_, i) => i + 1),
        'exactly the acknowledged sends are stored, densely',
      );
      assert.deepEqual(
        history.map((m) => m.id).sort(),
        acked.map((m) => m.id).sort(),
        'and the refused ones are not',
      );
      return { outcomes, history };
    } finally {
      await closeAll(conns);
    }
  }

  const refusals = (outcomes: Outcome[]) => outcomes.flatMap((o) => (o.ok ? [] : [o.e]));

  /** Up to MAX_IN_FLIGHT (10) went through; the rest got unavailable at once, with a retry hint. */
  function shedByGateway(outcomes: Outcome[]): void {
    const refused = refusals(outcomes);
    assert.ok(refused.length > 0, 'some were refused');
    assert.ok(outcomes.filter((o) => o.ok).length >= 10, 'up to the limit went through');
    for (const e of refused) {
      assert.equal(e.code, 'unavailable', e.message);
      assert.match(e.message, /gateway overloaded/);
      assert.ok(e.retryAfterMs! > 0);
    }
  }

  it('WS_MAX_PENDING_REQUESTS: past it, a socket’s requests get rate_limited at once, with a retry hint', async () => {
    const gw = await platform.startGateway({ WS_MAX_PENDING_REQUESTS: '2' });
    try {
      const { outcomes } = await burst(gw, 1, 30);
      const refused = refusals(outcomes);
      assert.ok(refused.length > 0, 'some were refused');
      assert.ok(
        outcomes.some((o) => o.ok),
        'some went through',
      );
      for (const e of refused) {
        assert.equal(e.code, 'rate_limited', e.message);
        assert.match(e.message, /more than 2 requests in flight on this socket/);
        assert.ok(e.retryAfterMs! > 0);
      }
    } finally {
      await gw.stop();
    }
  });

  it('WS_MAX_SOCKETS_PER_USER: past it, a new socket is refused with limit_exceeded and 4429; closing one makes room; other users are not affected', async () => {
    const gw = await platform.startGateway({ WS_MAX_SOCKETS_PER_USER: '3' });
    const url = `ws://${gw.address('publicPort')}/v1/ws`;
    const [alice, bob] = await registerUsers(platform, 2, 'sockcap');
    const token = (u: typeof alice) => u!.session!.accessToken;
    const held = await Promise.all([1, 2, 3].map(() => ImSocket.connect(url, token(alice))));
    try {
      const refused = await outcome(ImSocket.connect(url, token(alice)));
      assert.equal(refused, 'ws limit_exceeded');
      // by the auth frame too (browsers), and the refusal tells why
      await assert.rejects(ImSocket.connect(url, token(alice), { auth: 'frame' }), (e: ApiError) => {
        assert.equal(e.code, 'limit_exceeded');
        assert.match(e.message, /already has 3 sockets open on this gateway.*close 4429/);
        return true;
      });
      await (await ImSocket.connect(url, token(bob))).close();
      // the held sockets still work
      await held[0]!.request('presence.set', { status: 'online' });
      await held.pop()!.close();
      await eventually(async () => {
        const again = await ImSocket.connect(url, token(alice));
        held.push(again);
      });
    } finally {
      await closeAll(held);
      await gw.stop();
    }
  });

  it('MAX_IN_FLIGHT: past it, the gateway answers unavailable at once instead of queueing', async () => {
    const gw = await platform.startGateway({ MAX_IN_FLIGHT: '10' });
    try {
      const { outcomes } = await burst(gw, 4, 20);
      shedByGateway(outcomes);
    } finally {
      await gw.stop();
    }
  });

  it('MAX_IN_FLIGHT counts REST requests too: past it, REST sends get unavailable at once', async () => {
    const gw = await platform.startGateway({ MAX_IN_FLIGHT: '10' });
    try {
      const users = await registerUsers(platform, 4, 'restburst');
      const conv = await users[0]!.createConversation(
        'group',
        users.slice(1).map((u) => u.user.id),
        'rest burst',
      );
      const outcomes = await settle(
        users.flatMap((u, i) => {
          const client = new ImClient(`http://${gw.address('publicPort')}`);
          client.session = u.session;
          return Array.from({ length: 12 }, (_, n) =>
            client.sendMessage(conv.id, `r-${i}-${n}`, `r${i} #${n}`),
          );
        }),
      );
      shedByGateway(outcomes);
      const history = await users[0]!.allMessages(conv.id);
      assert.deepEqual(
        history.map((m) => m.id).sort(),
        outcomes.flatMap((o) => (o.ok ? [o.m.id] : [])).sort(),
        'exactly the acknowledged sends are stored',
      );
    } finally {
      await gw.stop();
    }
  });

  it('MAX_PENDING_COMMANDS: past it, the message service answers unavailable at once', async () => {
    const { outcomes } = await burst(undefined, 5, 30);
    const refused = refusals(outcomes);
    assert.ok(refused.length > 0, 'some were refused');
    assert.ok(outcomes.filter((o) => o.ok).length >= 10, 'up to the limit went through');
    for (const e of refused) {
      assert.equal(e.code, 'unavailable', e.message);
      assert.match(e.message, /message service overloaded/);
      assert.ok(e.retryAfterMs! > 0);
    }
  });

  it('USER_MAX_CONVERSATIONS: nobody can be put into more conversations than the cap; refusals create nothing', async () => {
    const [spammer, victim, friend, other] = await registerUsers(platform, 4, 'cap');
    for (let i = 0; i < 3; i++) await spammer!.createConversation('group', [victim!.user.id], `spam ${i}`);
    const before = (await victim!.listConversations()).conversations.length;
    assert.equal(before, 3);
    assert.equal(
      await outcome(spammer!.createConversation('group', [victim!.user.id], 'one more')),
      '409 limit_exceeded',
    );
    assert.equal(
      await outcome(friend!.createConversation('direct', [victim!.user.id])),
      '409 limit_exceeded',
    );
    const open = await friend!.createConversation('group', [other!.user.id], 'elsewhere');
    assert.equal(await outcome(friend!.addMembers(open.id, [victim!.user.id])), '409 limit_exceeded');
    assert.equal((await victim!.listConversations()).conversations.length, 3, 'nothing was created');
    // leaving one makes room
    await victim!.leave((await victim!.listConversations()).conversations[0]!.id);
    await friend!.addMembers(open.id, [victim!.user.id]);
    assert.equal((await victim!.listConversations()).conversations.length, 3);
  });

  it('per-IP login throttling: after the limit of failures any login from that IP waits for the window; other IPs are not affected', async () => {
    const gw = platform.gatewayUrl();
    // documentation addresses (RFC 5737), only ever written into a header
    const n = Math.floor(Math.random() * 250) + 1;
    const ip = `198.51.100.${n}`;
    const other = `203.0.113.${n}`;
    const login = async (from: string, user: string, password: string) => {
      const res = await fetch(`${gw}/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
        body: JSON.stringify({ username: user, password }),
      });
      const body = (await res.json()) as { error?: { code: string; retryAfterMs?: number } };
      return { status: res.status, code: body.error?.code, retryAfterMs: body.error?.retryAfterMs };
    };
    const [good] = await registerUsers(platform, 1, 'perip');
    // failures on different accounts, so the per-account limit never applies; each one claims
    // another address in front, which is not believed: only the trusted proxy's hop names the client
    for (let i = 0; i < PER_IP_LIMIT; i++) {
      const r = await login(`192.0.2.${i + 1}, ${ip}`, username('nobody'), 'wrong password');
      assert.equal(r.code, 'invalid_credentials');
    }
    const t0 = Date.now();
    const throttled = await login(ip, good!.user.username, PASSWORD);
    assert.equal(throttled.status, 429, 'even the right password waits: the IP is throttled');
    assert.equal(throttled.code, 'rate_limited');
    assert.ok(throttled.retryAfterMs! > 0 && throttled.retryAfterMs! <= WINDOW_SEC * 1000);
    assert.equal((await login(other, good!.user.username, PASSWORD)).status, 200, 'another IP logs in');

    // once the window has passed (the server says when), the IP may log in again
    await sleep(throttled.retryAfterMs! + 50 - (Date.now() - t0));
    assert.equal((await login(ip, good!.user.username, PASSWORD)).status, 200);
  });

  it('a message-service drain with sends in flight: each is acked or refused as retryable, retries land once', async () => {
    const [alice, bob] = await registerUsers(platform, 2, 'msgdrain');
    const conv = await alice!.createConversation('direct', [bob!.user.id]);
    const socket = await alice!.connect();
    const ids = Array.from({ length: 8 }, () => `md-${randomUUID()}`);
    const inFlight = settle(ids.map((id, i) => socket.sendMessage(conv.id, `m${i}`, id)));
    const exit = platform.services.get('message')!.stop();
    const outcomes = await inFlight;
    assert.equal((await exit).code, 0, 'the message service exits cleanly');
    for (const o of outcomes)
      if (!o.ok) assert.ok(['unavailable', 'timeout'].includes(o.e.code), `retryable, not ${o.e.code}`);

    await platform.restartService('message');
    const again = await settle(ids.map((id, i) => retrying(() => socket.sendMessage(conv.id, `m${i}`, id))));
    const history = await bob!.allMessages(conv.id);
    assert.deepEqual(
      history.map((m) => m.seq),
      ids.map((_, i) => i + 1),
      'every send stored once, densely',
    );
    for (const [i, o] of again.entries()) {
      assert.ok(o.ok, `retry ${i} acked`);
      const before = outcomes[i]!;
      if (before.ok) assert.deepEqual(o.m, before.m, 'an acked send keeps its seq and id');
    }
    await socket.close();
  });

  it('a presence drain with requests in flight: each is answered, and the chosen status survives the restart', async () => {
    const [user, watcher] = await registerUsers(platform, 2, 'presdrain');
    const device = await user!.connect();
    const set = () => device.request('presence.set', { status: 'away', statusText: 'lunch' });
    await set();
    const requests = settle(Array.from({ length: 10 }, () => set().then(() => ({}) as Message)));
    const exit = platform.services.get('presence')!.stop();
    const outcomes = await requests;
    assert.equal((await exit).code, 0, 'the presence service exits cleanly');
    for (const o of outcomes)
      if (!o.ok) assert.ok(['unavailable', 'timeout'].includes(o.e.code), `retryable, not ${o.e.code}`);
    await platform.restartService('presence');
    // the status was stored; the device is known again once the gateway's report gets through
    await eventually(
      async () => {
        const seen = await retrying(() => watcher!.presence([user!.user.id]));
        assert.deepEqual(
          { status: seen.presence[0]!.status, statusText: seen.presence[0]!.statusText },
          { status: 'away', statusText: 'lunch' },
        );
      },
      { timeoutMs: 60_000, what: 'away again after the restart' },
    );
    await device.close();
  });
});
