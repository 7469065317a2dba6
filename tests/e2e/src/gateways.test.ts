import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { ApiError, ImClient, ImSocket } from '@im/sdk';
import { eventually, Platform, type ServiceProcess } from '@im/testing';
import { retrying } from './support/retry.js';
import { closeAll, registerUsers } from './support/users.js';

const unlimited = { SEND_RATE_PER_SEC: '100000', SEND_BURST: '100000' };

describe('gateways', () => {
  let platform: Platform;

  before(async () => {
    platform = await Platform.start({ shared: true, gateways: 2, env: { gateway: unlimited } });
  });
  after(() => platform?.stop());

  it('two gateway processes: users on different gateways talk; every device of a user gets each event', async () => {
    const [alice, bob] = await registerUsers(platform, 2, 'twogw');
    const conv = await alice!.createConversation('direct', [bob!.user.id]);
    const onGw1 = new ImClient(platform.gatewayUrl(1));
    onGw1.session = bob!.session;
    const [a0, b0, b1] = await Promise.all([alice!.connect(), bob!.connect(), onGw1.connect()]);
    try {
      const m1 = await a0.sendMessage(conv.id, 'from gateway 0');
      for (const s of [b0, b1]) assert.equal((await s.waitFor('message.new')).message!.id, m1.id);
      const m2 = await b1.sendMessage(conv.id, 'from gateway 1');
      const got = await a0.waitFor('message.new', (f) => f.message!.seq === 2);
      assert.equal(got.message!.id, m2.id);
      await b0.waitFor('message.new', (f) => f.message!.seq === 2);
    } finally {
      await closeAll([a0, b0, b1]);
    }
  });

  it('logout on one gateway revokes the session on the other: its sockets close with 4401, its REST refuses', async () => {
    const [u] = await registerUsers(platform, 1, 'revoke2gw');
    const onGw1 = new ImClient(platform.gatewayUrl(1));
    onGw1.session = u!.session;
    const [s0, s1] = await Promise.all([u!.connect(), onGw1.connect()]);
    await u!.logout(); // through gateway 0
    for (const s of [s0, s1]) assert.equal((await s.closed).code, 4401);
    await assert.rejects(onGw1.me(), (e: unknown) => e instanceof ApiError && e.code === 'session_revoked');
    await assert.rejects(
      onGw1.connect(),
      (e: unknown) => e instanceof ApiError && e.code === 'session_revoked',
    );
  });

  it('per-user send rate limit: rate_limited with a retry hint, and the refused message is not stored', async () => {
    const gw = await platform.startGateway({ SEND_RATE_PER_SEC: '2', SEND_BURST: '3' });
    const [alice, bob] = await registerUsers(platform, 2, 'rate');
    const conv = await alice!.createConversation('direct', [bob!.user.id]);
    const socket = await ImSocket.connect(
      `ws://${gw.address('publicPort')}/v1/ws`,
      alice!.session!.accessToken,
    );
    try {
      for (let i = 0; i < 3; i++) await socket.sendMessage(conv.id, `ok ${i}`);
      const err = await socket.sendMessage(conv.id, 'too fast', 'refused-one').catch((e: unknown) => e);
      assert.ok(err instanceof ApiError);
      assert.equal(err.code, 'rate_limited');
      assert.ok(err.retryAfterMs! > 0 && err.retryAfterMs! <= 500, `retry after ${err.retryAfterMs} ms`);
      // a client that honours retryAfterMs gets through; the refused message took no seq
      const later = await retrying(
        () => socket.sendMessage(conv.id, 'after waiting', 'later-1'),
        ['rate_limited'],
      );
      assert.equal(later.seq, 4);
      const history = await bob!.allMessages(conv.id);
      assert.ok(!history.some((m) => m.clientMsgId === 'refused-one'));
      // REST shares the limit and says 429 with Retry-After
      const rest = new ImClient(`http://${gw.address('publicPort')}`);
      rest.session = alice!.session;
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          rest.sendMessage(conv.id, `rest-${i}`, 'x').catch((e: unknown) => e),
        ),
      );
      assert.ok(results.some((r) => r instanceof ApiError && r.status === 429 && r.code === 'rate_limited'));
    } finally {
      await socket.close();
      await gw.stop();
    }
  });

  it('a socket that cannot keep up is closed with 4408 and heals with sync after reconnecting', async () => {
    const gw = await platform.startGateway({ ...unlimited, WS_MAX_BUFFERED_BYTES: '16384' });
    const url = `ws://${gw.address('publicPort')}/v1/ws`;
    const [alice, bob] = await registerUsers(platform, 2, 'slow');
    const conv = await alice!.createConversation('direct', [bob!.user.id]);
    const slow = await ImSocket.connect(url, bob!.session!.accessToken);
    const sender = await alice!.connect();
    (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause(); // stop reading
    const big = '😀'.repeat(3_900); // ~16 KB of JSON per event
    for (let i = 0; i < 800; i += 40)
      await Promise.all(Array.from({ length: 40 }, (_, n) => sender.sendMessage(conv.id, `${i + n} ${big}`)));
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    const closed = await slow.closed;
    assert.equal(closed.code, 4408);
    const again = await ImSocket.connect(url, bob!.session!.accessToken);
    let afterSeq = 0;
    for (let page = 0; afterSeq < 800; page++) {
      const synced = await again.sync([{ conversationId: conv.id, afterSeq }], 500);
      const c = synced.conversations[0]!;
      assert.equal(c.lastSeq, 800);
      assert.equal(c.messages[0]!.seq, afterSeq + 1, 'pages continue without a gap');
      afterSeq = c.messages.at(-1)!.seq;
      assert.equal(c.hasMore, afterSeq < 800, 'big messages: pages are cut by size, and say so');
      assert.ok(page < 40);
    }
    await closeAll([again, sender]);
    await gw.stop();
  });

  it('closes sockets that stay silent (no pong) and sockets that never send the auth frame', async () => {
    const gw = await platform.startGateway({
      WS_HEARTBEAT_INTERVAL_MS: '1000',
      WS_IDLE_TIMEOUT_MS: '2500',
      WS_AUTH_TIMEOUT_MS: '1000',
    });
    const url = `ws://${gw.address('publicPort')}/v1/ws`;
    const [user] = await registerUsers(platform, 1, 'idle');
    try {
      const alive = await ImSocket.connect(url, user!.session!.accessToken);
      const silent = await ImSocket.connect(url, user!.session!.accessToken);
      (silent.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
      // The server's own clock as the marker: heartbeats come 1 s apart and each one closes the
      // sockets idle for over 2.5 s, so by the 4th ping the live socket sees after the pause
      // (>= 3 s later) the silent socket has been closed.
      await pingsReceived(alive, 4);
      (silent.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      await silent.closed;
      assert.ok(alive.isOpen, 'a socket that answers pings stays open');
      await alive.request('ping');
      await alive.close();

      const noAuth = new WebSocket(url);
      const frames: string[] = [];
      noAuth.on('message', (d) => frames.push(d.toString()));
      const code = await new Promise<number>((resolve) => noAuth.on('close', (c) => resolve(c)));
      assert.equal(code, 4401);
      assert.equal(JSON.parse(frames[0]!).code, 'unauthenticated');
    } finally {
      await gw.stop();
    }
  });

  it('drains on SIGTERM: in-flight requests are answered, clients are told to reconnect (1012) and carry on elsewhere', async () => {
    const draining: ServiceProcess = await platform.startGateway(unlimited);
    const [alice, bob] = await registerUsers(platform, 2, 'drain');
    const conv = await alice!.createConversation('direct', [bob!.user.id]);
    const socket = await ImSocket.connect(
      `ws://${draining.address('publicPort')}/v1/ws`,
      alice!.session!.accessToken,
    );
    const clientMsgIds = Array.from({ length: 30 }, (_, i) => `drain-${i}-${randomUUID()}`);
    const sends = clientMsgIds.map((clientMsgId, i) =>
      socket.sendMessage(conv.id, `in flight ${i}`, clientMsgId).then(
        (m) => ({ ok: true as const, m }),
        (e: unknown) => ({ ok: false as const, e }),
      ),
    );
    const exit = draining.stop();
    const results = await Promise.all(sends);
    // each request in flight is answered before the socket closes: acked, or refused with a
    // retryable code (then the client resends it, same clientMsgId, through another gateway)
    for (const r of results) {
      if (r.ok) continue;
      assert.ok(r.e instanceof ApiError, String(r.e));
      assert.equal(r.e.code, 'unavailable', `a retryable answer, not ${r.e.code}`);
    }
    const reconnect = await socket.waitFor('reconnect');
    assert.ok(typeof reconnect.afterMs === 'number');
    assert.equal((await socket.closed).code, 1012);
    assert.equal((await exit).code, 0, 'the gateway exits cleanly');

    const elsewhere = await ImSocket.connect(platform.wsUrl(0), alice!.session!.accessToken);
    const retried = await Promise.all(
      results.map((r, i) => (r.ok ? r.m : elsewhere.sendMessage(conv.id, `in flight ${i}`, clientMsgIds[i]))),
    );
    const next = await elsewhere.sendMessage(conv.id, 'after the drain');
    const history = await bob!.allMessages(conv.id);
    assert.deepEqual(
      history.map((m) => m.seq),
      Array.from({ length: 31 }, (_, i) => i + 1),
      'dense, with every send exactly once',
    );
    for (const [i, m] of retried.entries()) {
      assert.equal(m.clientMsgId, clientMsgIds[i]);
      assert.ok(
        history.some((h) => h.id === m.id && h.text === `in flight ${i}`),
        `send ${i} is in history`,
      );
    }
    assert.equal(next.seq, 31);
    await elsewhere.close();
    await eventually(
      async () => assert.rejects(fetch(`http://${draining.address('publicPort')}/v1/openapi.json`)),
      { timeoutMs: 5_000 },
    );
  });
});

/** Resolves once the socket has answered n more pings from the server. */
function pingsReceived(socket: ImSocket, n: number): Promise<void> {
  return new Promise((resolve) => {
    let count = 0;
    const onPing = () => {
      if (++count < n) return;
      socket.ws.off('ping', onPing);
      resolve();
    };
    socket.ws.on('ping', onPing);
  });
}
