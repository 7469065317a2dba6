import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { createGrpcClient } from '@im/platform/grpc';
import { jetStreamManager } from '@im/platform/nats';
import { createRegistry } from '@im/platform/registry';
import { AuthServiceService } from '@im/proto/auth/v1';
import { ApiError, ImClient, ImSocket, type Session } from '@im/sdk';
import { eventually, OPERATOR_TOKEN, Platform, testGrpcIdentity } from '@im/testing';
import { serviceKeyspace } from './support/keyspace.js';
import { PASSWORD, registerUsers, username } from './support/users.js';
import { runnerNats } from './support/nats.js';

const rejects = async (p: Promise<unknown>, code: string, status?: number) => {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ApiError, String(err));
    assert.equal(err.code, code, err.message);
    if (status !== undefined) assert.equal(err.status, status);
    return true;
  });
};

async function rawPost(base: string, path: string, body: unknown, token?: string) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    body: (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined,
  };
}

describe('auth through the gateway', () => {
  let platform: Platform;
  let base: string;

  before(async () => {
    platform = await Platform.start({
      env: {
        auth: {
          LOGIN_MAX_FAILURES_PER_ACCOUNT: '3',
          LOGIN_ACCOUNT_SLOWDOWN_SEC: '2',
          // the forgery tests below read the private signing key from the database
          AUTH_KEY_ENCRYPTION_KEY: '',
          AUTH_ALLOW_UNENCRYPTED_SIGNING_KEYS: 'true',
          ARGON2_MEMORY_KIB: '8192',
          ARGON2_PASSES: '1',
        },
      },
    });
    base = platform.gatewayUrl();
  });
  after(() => platform?.stop());

  it('registers (201 with tokens), refuses a taken username (409) and bad input (400)', async () => {
    const name = username('reg');
    const res = await rawPost(base, '/v1/auth/register', {
      username: name,
      password: PASSWORD,
      displayName: 'Reg',
    });
    assert.equal(res.status, 201);
    assert.equal((res.body!.user as { username: string }).username, name);
    assert.equal((res.body!.user as { displayName: string }).displayName, 'Reg');
    assert.match(res.body!.accessToken as string, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.match(res.body!.refreshToken as string, /^rt1\./);
    assert.equal(typeof res.body!.expiresIn, 'number');

    const again = await rawPost(base, '/v1/auth/register', {
      username: name.toUpperCase(),
      password: PASSWORD,
    });
    assert.equal(again.status, 409);
    assert.equal((again.body!.error as { code: string }).code, 'username_taken');

    for (const bad of [
      { username: 'x', password: PASSWORD },
      { username: username('ok'), password: 'short' },
    ]) {
      const r = await rawPost(base, '/v1/auth/register', bad);
      assert.equal(r.status, 400);
      assert.equal((r.body!.error as { code: string }).code, 'invalid_argument');
    }
  });

  it('logs in; unknown user and wrong password get the same answer; repeated failures are throttled', async () => {
    const [u] = await registerUsers(platform, 1, 'login');
    const name = u!.user.username;
    const ok = await rawPost(base, '/v1/auth/login', { username: name, password: PASSWORD });
    assert.equal(ok.status, 200);

    const wrong = await rawPost(base, '/v1/auth/login', { username: name, password: 'wrong password' });
    const unknown = await rawPost(base, '/v1/auth/login', {
      username: username('ghost'),
      password: 'wrong password',
    });
    assert.equal(wrong.status, 401);
    assert.deepEqual(wrong.body, unknown.body, 'no user-existence oracle');
    assert.deepEqual(wrong.body, {
      error: { code: 'invalid_credentials', message: 'invalid username or password' },
    });

    await rawPost(base, '/v1/auth/login', { username: name, password: 'wrong again' });
    await rawPost(base, '/v1/auth/login', { username: name, password: 'and again' });
    const res = await fetch(`${base}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: name, password: PASSWORD }),
    });
    assert.equal(res.status, 429, 'even the right password waits once the account is throttled');
    const body = (await res.json()) as { error: { code: string; retryAfterMs: number } };
    assert.equal(body.error.code, 'rate_limited');
    assert.ok(body.error.retryAfterMs > 0 && body.error.retryAfterMs <= 2_000, 'slowed, not locked out');
    assert.ok(Number(res.headers.get('retry-after')) > 0);
    await new Promise((r) => setTimeout(r, body.error.retryAfterMs + 100));
    const owner = await rawPost(base, '/v1/auth/login', { username: name, password: PASSWORD });
    assert.equal(owner.status, 200, 'after the slowdown interval the owner gets in');
  });

  it('parallel guesses cannot pass the throttle together', async () => {
    const [u] = await registerUsers(platform, 1, 'burst');
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        rawPost(base, '/v1/auth/login', { username: u!.user.username, password: `guess ${i}` }),
      ),
    );
    const checked = answers.filter((a) => a.status === 401).length;
    assert.ok(checked <= 4, `${checked} of 20 parallel guesses reached the password check (limit 3)`);
    assert.equal(answers.filter((a) => a.status === 429).length, 20 - checked);
  });

  it('rotates refresh tokens; reusing a spent one revokes the whole family, sockets included', async () => {
    const [u] = await registerUsers(platform, 1, 'refresh');
    const first = u!.session!;
    const socket = await u!.connect();
    const second = await u!.refresh();
    assert.notEqual(second.refreshToken, first.refreshToken);
    assert.notEqual(second.accessToken, first.accessToken);
    await u!.me(); // the new access token works
    await u!.refresh(); // the successor of the first token is used: a replay is no lost answer

    const replay = new ImClient(base);
    replay.session = { ...first };
    await rejects(replay.refresh(), 'refresh_reused', 401);

    // the family is gone: the newest refresh token and its access token are refused too
    await rejects(u!.refresh(), 'session_revoked', 401);
    await eventually(() => rejects(u!.me(), 'session_revoked', 401), {
      timeoutMs: 3_000,
      what: 'access token refused',
    });
    const closed = await socket.closed;
    assert.equal(closed.code, 4401);
    assert.ok(socket.events.some((e) => e.type === 'error' && e.code === 'session_revoked'));
  });

  it('a refresh retried within the grace window (its answer lost) gets a new pair; the lost pair is then dead', async () => {
    const [u] = await registerUsers(platform, 1, 'refreshretry');
    const original = { ...u!.session! };
    const lost = await u!.refresh(); // pretend this answer never arrived
    const retry = new ImClient(base);
    retry.session = original;
    const recovered = await retry.refresh();
    assert.notEqual(recovered.refreshToken, lost.refreshToken);
    await retry.me();
    // the lost pair's refresh token was spent in its place: presenting it is a replay
    const stale = new ImClient(base);
    stale.session = lost;
    await rejects(stale.refresh(), 'refresh_reused', 401);
    await rejects(retry.refresh(), 'session_revoked', 401);
  });

  it('logout revokes the session: its open sockets close with 4401, REST and new sockets are refused', async () => {
    // how fast revocation spreads is measured, not asserted here (docs/security.md)
    const [u] = await registerUsers(platform, 1, 'logout');
    const socket = await u!.connect();
    const stale = new ImClient(u!.baseUrl);
    stale.session = u!.session; // a copy of the tokens kept elsewhere
    await u!.logout();
    assert.equal(u!.session, undefined, 'the client forgets the session');
    const closed = await socket.closed;
    assert.equal(closed.code, 4401);
    await rejects(stale.me(), 'session_revoked', 401);
    await assert.rejects(
      ImSocket.connect(stale.wsUrl, stale.session!.accessToken),
      (e: unknown) => e instanceof ApiError && e.code === 'session_revoked',
    );
    await rejects(stale.refresh(), 'session_revoked', 401);
  });

  /** Runs a JetStream operation on the revocation bucket's stream, as the test runner. */
  async function onRevocationStream(
    op: (jsm: Awaited<ReturnType<typeof jetStreamManager>>, stream: string) => Promise<unknown>,
  ) {
    const nats = await runnerNats('e2e-revocation-stream');
    try {
      await op(await jetStreamManager(nats), `KV_${createRegistry(platform.prefix).buckets.revokedSessions}`);
    } finally {
      await nats.close();
    }
  }

  /** A gateway started now: it refuses the revoked session once it has read the revocations back. */
  async function newGatewayRefuses(session: Session): Promise<ImClient> {
    await platform.startGateway();
    const late = new ImClient(platform.gatewayUrl(platform.gateways.length - 1));
    late.session = session;
    await eventually(() => rejects(late.me(), 'session_revoked', 401), {
      timeoutMs: 30_000,
      what: 'the new gateway refuses the revoked session',
    });
    return late;
  }

  it('a revocation outlives the NATS bucket that carried it: a gateway started after the bucket was emptied still refuses the session', async () => {
    const [u] = await registerUsers(platform, 1, 'lostbucket');
    const stale = new ImClient(u!.baseUrl);
    stale.session = u!.session;
    await u!.logout();
    await rejects(stale.me(), 'session_revoked', 401);
    // NATS loses the bucket's contents (its storage gone, or a purge by mistake)
    await onRevocationStream((jsm, stream) => jsm.streams.purge(stream));
    const late = await newGatewayRefuses(stale.session!);
    await assert.rejects(
      ImSocket.connect(late.wsUrl, late.session!.accessToken),
      (e: unknown) => e instanceof ApiError && e.code === 'session_revoked',
    );
    // a live session is not caught up in it
    const [live] = await registerUsers(platform, 1, 'lostbucket-live');
    const fresh = new ImClient(platform.gatewayUrl(platform.gateways.length - 1));
    fresh.session = live!.session;
    await fresh.me();
  });

  it('a revocation bucket deleted outright is made again: revocations before it are read back, later ones land', async () => {
    const [before, after] = await registerUsers(platform, 2, 'deletedbucket');
    const staleBefore = new ImClient(before!.baseUrl);
    staleBefore.session = before!.session;
    await before!.logout();
    await onRevocationStream((jsm, stream) => jsm.streams.delete(stream));
    // a gateway started now waits until auth made the bucket again, then reads back
    const late = await newGatewayRefuses(staleBefore.session!);
    // and a logout after the loss reaches the gateways through the new bucket
    const socket = await ImSocket.connect(late.wsUrl, after!.session!.accessToken);
    await after!.logout();
    assert.equal((await socket.closed).code, 4401);
  });

  describe('access tokens that must be refused (REST 401 and WebSocket close 4401)', () => {
    let client: ImClient;
    let signingKey: { kid: string; jwk: JWK };

    before(async () => {
      client = (await registerUsers(platform, 1, 'tokens'))[0]!;
      const db = await serviceKeyspace(platform, 'auth');
      const kid = (await db.execute("SELECT kid FROM signing_key_current WHERE id = 'current'"))
        .first()
        .get('kid') as string;
      const jwk = JSON.parse(
        (await db.execute('SELECT private_jwk FROM signing_keys WHERE kid = ?', [kid]))
          .first()
          .get('private_jwk'),
      );
      await db.shutdown();
      signingKey = { kid, jwk };
    });

    const claims = () => ({
      tid: client.user.tenantId,
      sid: client.session!.accessToken ? decodeSid(client.session!.accessToken) : '',
    });

    async function expectRefused(token: string, code: string) {
      const res = await fetch(`${base}/v1/users/me`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, code);
      await assert.rejects(ImSocket.connect(client.wsUrl, token), (e: unknown) => {
        assert.ok(e instanceof ApiError);
        assert.equal(e.code, code);
        assert.match(e.message, /close 4401/);
        return true;
      });
      await assert.rejects(
        ImSocket.connect(client.wsUrl, token, { auth: 'frame' }),
        (e: unknown) => e instanceof ApiError && e.code === code,
      );
    }

    it('an expired token, even with a valid signature', async () => {
      const key = await importJWK(signingKey.jwk, 'EdDSA');
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT(claims())
        .setProtectedHeader({ alg: 'EdDSA', kid: signingKey.kid })
        .setSubject(client.user.id)
        .setIssuer('im-auth')
        .setAudience('im')
        .setIssuedAt(now - 3600)
        .setExpirationTime(now - 60)
        .sign(key);
      await expectRefused(token, 'token_expired');
    });

    it('a forged token (payload changed after signing)', async () => {
      const [h, p, s] = client.session!.accessToken.split('.');
      const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
      payload.sub = 'someone-else';
      await expectRefused(
        `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`,
        'invalid_token',
      );
    });

    it('alg "none"', async () => {
      const [, p] = client.session!.accessToken.split('.');
      const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT', kid: signingKey.kid })).toString(
        'base64url',
      );
      await expectRefused(`${header}.${p}.`, 'invalid_token');
    });

    it('a token signed with another key under the right kid', async () => {
      const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
      const token = await new SignJWT(claims())
        .setProtectedHeader({ alg: 'EdDSA', kid: signingKey.kid })
        .setSubject(client.user.id)
        .setIssuer('im-auth')
        .setAudience('im')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
      await expectRefused(token, 'invalid_token');
    });

    it('HS256 keyed with the public key (algorithm confusion)', async () => {
      const { publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
      const secret = new TextEncoder().encode(JSON.stringify(await exportJWK(publicKey)));
      const token = await new SignJWT(claims())
        .setProtectedHeader({ alg: 'HS256', kid: signingKey.kid })
        .setSubject(client.user.id)
        .setIssuer('im-auth')
        .setAudience('im')
        .setExpirationTime('5m')
        .sign(secret);
      await expectRefused(token, 'invalid_token');
    });

    it('no token, a malformed header, and a token in the URL', async () => {
      const res = await fetch(`${base}/v1/users/me`);
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'unauthenticated');
      const basic = await fetch(`${base}/v1/users/me`, { headers: { authorization: 'Basic abc' } });
      assert.equal(((await basic.json()) as { error: { code: string } }).error.code, 'invalid_token');
      await assert.rejects(
        ImSocket.connect(
          `${client.wsUrl}?access_token=${client.session!.accessToken}`,
          client.session!.accessToken,
        ),
        (e: unknown) => {
          return e instanceof ApiError && e.status === 400;
        },
      );
    });
  });

  it('publishes the JWKS, and keeps verifying old tokens after a key rotation', async () => {
    const [u] = await registerUsers(platform, 1, 'rotate');
    const before = (await (await fetch(`${base}/.well-known/jwks.json`)).json()) as {
      keys: Array<{ kid: string; alg: string; kty: string }>;
    };
    assert.ok(before.keys.length >= 1);
    assert.ok(before.keys.every((k) => k.alg === 'EdDSA' && k.kty === 'OKP'));

    const auth = createGrpcClient(AuthServiceService, {
      name: 'auth',
      address: platform.grpc('auth'),
      identity: testGrpcIdentity('operator'),
    });
    // an operator's call: without the operator credential nothing rotates
    for (const operatorToken of ['', 'not-the-operator-token'])
      await assert.rejects(auth.rotateSigningKey({ operatorToken }), (e: unknown) => {
        assert.equal((e as { code?: string }).code, 'forbidden');
        return true;
      });
    const unchanged = (await (await fetch(`${base}/.well-known/jwks.json`)).json()) as { keys: unknown[] };
    assert.equal(unchanged.keys.length, before.keys.length, 'a refused rotation added no key');
    const { kid } = await auth.rotateSigningKey({ operatorToken: OPERATOR_TOKEN });
    auth.close();
    await eventually(
      async () => {
        const after = (await (await fetch(`${base}/.well-known/jwks.json`)).json()) as {
          keys: Array<{ kid: string }>;
        };
        assert.ok(
          after.keys.some((k) => k.kid === kid),
          'new key published',
        );
        assert.ok(
          before.keys.every((old) => after.keys.some((k) => k.kid === old.kid)),
          'old keys still published',
        );
      },
      { timeoutMs: 10_000 },
    );
    const oldToken = u!.session!.accessToken;
    await eventually(
      async () => {
        const fresh = new ImClient(base);
        const s = await fresh.login(u!.user.username, PASSWORD);
        assert.equal(JSON.parse(Buffer.from(s.accessToken.split('.')[0]!, 'base64url').toString()).kid, kid);
        await fresh.me(); // the gateway fetches the unknown kid
      },
      { timeoutMs: 45_000, intervalMs: 1_000, what: 'new tokens signed with the new key and accepted' },
    );
    // the gateway has now re-fetched the keys: a token of the previous key still works
    assert.notEqual(JSON.parse(Buffer.from(oldToken.split('.')[0]!, 'base64url').toString()).kid, kid);
    assert.equal((await u!.me()).user.id, u!.user.id, 'REST accepts the old token');
    const s = await ImSocket.connect(u!.wsUrl, oldToken);
    await s.request('ping');
    await s.close();
  });
});

function decodeSid(token: string): string {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sid as string;
}
