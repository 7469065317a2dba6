import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateKeyPair, SignJWT } from 'jose';
import type { GatewayConfig } from '../config.js';
import type { ApiKeys } from './api-keys.js';
import type { JwksCache, VerifyKey } from './jwks-cache.js';
import type { RevokedSessions } from './revoked-sessions.js';
import { TokenVerifier } from './token-verifier.js';

const config = { JWT_ISSUER: 'im-auth', JWT_AUDIENCE: 'im' } as GatewayConfig;

async function setup() {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA');
  const keys = new Map<string, VerifyKey>([['k1', publicKey]]);
  let lookups = 0;
  const jwks = {
    key: async (kid: string) => {
      lookups++;
      return keys.get(kid);
    },
    current: (kid: string) => keys.get(kid),
  } as unknown as JwksCache;
  const revoked = new Set<string>();
  const sessions = { isRevoked: (sid: string) => revoked.has(sid) } as unknown as RevokedSessions;
  const verifier = new TokenVerifier(jwks, sessions, config, {} as ApiKeys);
  const sign = (expiresInSec: number, claims: Record<string, unknown> = { tid: 't1', sid: 's1' }) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
      .setSubject('u1')
      .setIssuer(config.JWT_ISSUER)
      .setAudience(config.JWT_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + expiresInSec)
      .sign(privateKey);
  return { verifier, keys, revoked, sign, lookups: () => lookups };
}

describe('TokenVerifier', () => {
  it('verifies a token once; later uses of it are not verified again', async () => {
    const { verifier, sign, lookups } = await setup();
    const token = await sign(600);
    const first = await verifier.verify(token);
    assert.deepEqual(
      { userId: first.userId, tenantId: first.tenantId, sessionId: first.sessionId },
      { userId: 'u1', tenantId: 't1', sessionId: 's1' },
    );
    first.userId = 'changed by a caller';
    assert.equal((await verifier.verify(token)).userId, 'u1', 'each caller gets a copy');
    assert.equal(lookups(), 1, 'the signature was checked once');
  });

  it('a remembered token still fails once its session is revoked, its key withdrawn, or it expires', async (t) => {
    const { verifier, keys, revoked, sign } = await setup();
    const token = await sign(600);
    await verifier.verify(token);
    revoked.add('s1');
    await assert.rejects(verifier.verify(token), { code: 'session_revoked' });
    revoked.delete('s1');

    const original = keys.get('k1')!;
    keys.delete('k1');
    await assert.rejects(verifier.verify(token), { code: 'invalid_token' }, 'its key is gone');
    keys.set('k1', original);
    assert.ok(await verifier.verify(token), 'verified again with its key back');
    // the same kid now names another key (a rotation reusing the kid): the token is checked against it
    keys.set('k1', (await generateKeyPair('EdDSA')).publicKey);
    await assert.rejects(verifier.verify(token), { code: 'invalid_token' }, 'its key was replaced');
    keys.set('k1', original);

    const now = Math.floor(Date.now() / 1000) * 1000;
    t.mock.timers.enable({ apis: ['Date'], now });
    const shortLived = await sign(60);
    await verifier.verify(shortLived);
    t.mock.timers.setTime(now + 60_000 + 4_999);
    assert.ok(await verifier.verify(shortLived), 'within the 5 s clock tolerance');
    t.mock.timers.setTime(now + 65_000);
    await assert.rejects(verifier.verify(shortLived), { code: 'token_expired' });
  });

  it('a token that fails verification is not remembered as good', async () => {
    const { verifier, sign } = await setup();
    const noSession = await sign(600, { tid: 't1' });
    await assert.rejects(verifier.verify(noSession), { code: 'invalid_token' });
    await assert.rejects(verifier.verify(noSession), { code: 'invalid_token' });
    // the signature's first character carries six bits of it (the last one partly padding)
    const [header, payload, signature] = (await sign(600)).split('.');
    const tampered = `${header}.${payload}.${signature![0] === 'A' ? 'B' : 'A'}${signature!.slice(1)}`;
    await assert.rejects(verifier.verify(tampered), { code: 'invalid_token' });
  });
});
