import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { ImConnection, type ConnectionState } from './connection.js';
import { ApiError } from './errors.js';
import { fakeSockets, settle } from './fake-socket.spec-support.js';

describe('ImConnection', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] }));
  afterEach(() => mock.timers.reset());

  function connection(refresh: () => Promise<string> = async () => 'fresh') {
    const { factory, sockets } = fakeSockets();
    const states: ConnectionState[] = [];
    const refreshes = { count: 0 };
    let current = 'tok';
    const conn = new ImConnection({
      url: 'ws://x/v1/ws',
      token: async () => current,
      refresh: async () => {
        refreshes.count++;
        return (current = await refresh());
      },
      socketFactory: factory,
      backoff: { baseMs: 1_000, maxMs: 8_000 },
      pingIntervalMs: 4_000,
      pingTimeoutMs: 2_000,
      random: () => 0.5,
    });
    conn.on('state', (s) => states.push(s));
    return { conn, sockets, states, refreshes };
  }

  it('authenticates with the first frame, then is open; a drop backs off exponentially and reconnects', async () => {
    const { conn, sockets, states } = connection();
    const readies: boolean[] = [];
    conn.on('ready', (_r, info) => readies.push(info.reconnected));
    conn.start();
    await settle();
    sockets[0]!.open();
    assert.deepEqual(sockets[0]!.sent[0], { type: 'auth', token: 'tok' });
    sockets[0]!.push({ type: 'ready', userId: 'me', sessionId: 's', heartbeatIntervalMs: 1 });
    assert.equal(conn.state, 'open');

    sockets[0]!.drop(1006);
    assert.equal(conn.state, 'waiting');
    mock.timers.tick(499); // attempt 0: half (random 0.5) of 1000 ms
    await settle();
    assert.equal(sockets.length, 1);
    mock.timers.tick(1);
    await settle();
    assert.equal(sockets.length, 2);
    sockets[1]!.drop(1006); // refused again: the ceiling doubles
    mock.timers.tick(999);
    await settle();
    assert.equal(sockets.length, 2);
    mock.timers.tick(1);
    await settle();
    assert.equal(sockets.length, 3);
    sockets[2]!.ready();
    assert.deepEqual(readies, [false, true]);
    assert.deepEqual(states, [
      'connecting',
      'open',
      'waiting',
      'connecting',
      'waiting',
      'connecting',
      'open',
    ]);
  });

  it('a reconnect frame then close 1012 is a planned move: it waits afterMs (plus jitter), not the backoff', async () => {
    const { conn, sockets } = connection();
    conn.start();
    await settle();
    sockets[0]!.ready();
    sockets[0]!.push({ type: 'reconnect', afterMs: 3_000 });
    sockets[0]!.drop(1012);
    mock.timers.tick(3_499);
    await settle();
    assert.equal(sockets.length, 1);
    mock.timers.tick(1);
    await settle();
    assert.equal(sockets.length, 2);
  });

  it('4401 refreshes the token once and reconnects with it; a second 4401 gives up', async () => {
    const { conn, sockets, refreshes } = connection();
    const stopped: Array<ApiError | undefined> = [];
    conn.on('stopped', (e) => stopped.push(e));
    conn.start();
    await settle();
    sockets[0]!.ready();
    sockets[0]!.push({ type: 'error', code: 'token_expired', message: 'refresh it' });
    sockets[0]!.drop(4401);
    await settle();
    assert.equal(refreshes.count, 1);
    assert.equal(sockets.length, 2);
    assert.equal(sockets[1]!.token, 'fresh', 'the new socket carries the refreshed token');
    sockets[1]!.open();
    sockets[1]!.push({ type: 'error', code: 'session_revoked', message: 'revoked' });
    sockets[1]!.drop(4401);
    await settle();
    assert.equal(refreshes.count, 1);
    assert.equal(conn.state, 'stopped');
    assert.equal(stopped[0]?.code, 'session_revoked');
  });

  it('4401 with a refresh that fails stops with the refresh error', async () => {
    const { conn, sockets } = connection(async () => {
      throw new ApiError('invalid_refresh_token', 'gone', 401);
    });
    const stopped: Array<ApiError | undefined> = [];
    conn.on('stopped', (e) => stopped.push(e));
    conn.start();
    await settle();
    sockets[0]!.ready();
    sockets[0]!.drop(4401);
    await settle();
    assert.equal(conn.state, 'stopped');
    assert.equal(stopped[0]?.code, 'invalid_refresh_token');
  });

  it('4401 with auth unreachable (not a refusal) waits and tries again, with a fresh chance to refresh', async () => {
    let failures = 1;
    const { conn, sockets, refreshes } = connection(async () => {
      if (failures-- > 0) throw new ApiError('unavailable', 'auth is down', 503);
      return 'fresh';
    });
    conn.start();
    await settle();
    sockets[0]!.ready();
    sockets[0]!.drop(4401);
    await settle();
    assert.equal(conn.state, 'waiting');
    mock.timers.tick(500);
    await settle();
    sockets[1]!.open();
    sockets[1]!.drop(4401); // the old token again: this time the refresh works
    await settle();
    assert.equal(refreshes.count, 2);
    assert.equal(sockets.length, 3);
    assert.equal(sockets[2]!.token, 'fresh');
  });

  it('stop() during a pending token fetch: the late open stands down', async () => {
    const { factory, sockets } = fakeSockets();
    let release!: (t: string) => void;
    const conn = new ImConnection({
      url: 'ws://x/v1/ws',
      token: () => new Promise<string>((r) => (release = r)),
      refresh: async () => 'x',
      socketFactory: factory,
    });
    conn.start();
    conn.stop();
    release('tok');
    await settle();
    assert.equal(sockets.length, 0);
    assert.equal(conn.state, 'stopped');
  });

  it('4408 (slow consumer) reconnects; requests in flight reject with connection_closed', async () => {
    const { conn, sockets } = connection();
    conn.start();
    await settle();
    sockets[0]!.ready();
    const inFlight = conn.request('sync', {});
    sockets[0]!.drop(4408);
    await assert.rejects(inFlight, (e: unknown) => e instanceof ApiError && e.code === 'connection_closed');
    await assert.rejects(
      conn.request('sync', {}),
      (e: unknown) => e instanceof ApiError && e.code === 'not_connected',
    );
    mock.timers.tick(500);
    await settle();
    assert.equal(sockets.length, 2);
  });

  it('a ping left unanswered means a dead link: the socket is dropped and a new one opened', async () => {
    const { conn, sockets } = connection();
    conn.start();
    await settle();
    sockets[0]!.ready();
    mock.timers.tick(4_000); // silence: a ping goes out
    const ping = sockets[0]!.lastSent('ping');
    assert.ok(ping);
    sockets[0]!.push({ type: 'ack', id: ping.id }); // answered: still open
    mock.timers.tick(1_000);
    await settle();
    assert.equal(conn.state, 'open');
    mock.timers.tick(4_000);
    assert.equal(sockets[0]!.sent.filter((f) => f.type === 'ping').length, 2);
    mock.timers.tick(2_000); // the second ping times out
    await settle();
    assert.equal(sockets[0]!.closedWith, 4000);
    assert.equal(conn.state, 'waiting');
    mock.timers.tick(500);
    await settle();
    assert.equal(sockets.length, 2);
  });

  it('a handshake that never gets ready is abandoned and retried', async () => {
    const { conn, sockets } = connection();
    conn.start();
    await settle();
    mock.timers.tick(15_000);
    await settle();
    assert.equal(conn.state, 'waiting');
    mock.timers.tick(500);
    await settle();
    assert.equal(sockets.length, 2);
  });

  it("hands the server a fresh token (auth.refresh) 45 s before the socket's token expires", async () => {
    const jwt = (exp: number) => `e30.${Buffer.from(JSON.stringify({ exp })).toString('base64url')}.c2ln`; // {}.{exp}.sig
    const { factory, sockets } = fakeSockets();
    let current = jwt(120); // the mocked clock starts at 0
    const conn = new ImConnection({
      url: 'ws://x/v1/ws',
      token: async () => current,
      refresh: async () => current,
      socketFactory: factory,
      pingIntervalMs: 1_000_000,
    });
    conn.start();
    await settle();
    sockets[0]!.ready();
    current = jwt(1_020); // what the client's refresh will have made by then
    mock.timers.tick(74_999);
    await settle();
    assert.equal(sockets[0]!.lastSent('auth.refresh'), undefined);
    mock.timers.tick(1);
    await settle();
    const renewal = sockets[0]!.lastSent('auth.refresh');
    assert.equal(renewal?.token, current);
    sockets[0]!.push({ type: 'ack', id: renewal!.id });
    await settle();
    current = jwt(2_000);
    mock.timers.tick(899_999); // the next renewal: 45 s before the new token's expiry
    await settle();
    assert.equal(sockets[0]!.sent.filter((f) => f.type === 'auth.refresh').length, 1);
    mock.timers.tick(1);
    await settle();
    assert.equal(sockets[0]!.sent.filter((f) => f.type === 'auth.refresh').length, 2);
    assert.equal(conn.state, 'open');
  });

  it('stop() closes for good: no reconnect afterwards', async () => {
    const { conn, sockets } = connection();
    conn.start();
    await settle();
    sockets[0]!.ready();
    conn.stop();
    assert.equal(sockets[0]!.closedWith, 1000);
    mock.timers.tick(60_000);
    await settle();
    assert.equal(sockets.length, 1);
    assert.equal(conn.state, 'stopped');
  });
});
