import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loginWaitMs, retryAfterMs } from './login-throttle.js';
import { hashRefreshToken, isWellFormedRefreshToken, newRefreshToken } from './tokens.js';

describe('login throttle', () => {
  it('lets attempts through below the limit', () => {
    assert.equal(retryAfterMs([1_000, 2_000], 3, 60_000, 10_000), 0);
  });

  it('blocks at the limit until the oldest counted failure leaves the window', () => {
    assert.equal(retryAfterMs([1_000, 2_000, 3_000], 3, 60_000, 10_000), 51_000);
  });

  it('ignores failures outside the window', () => {
    assert.equal(retryAfterMs([1_000, 2_000, 100_000], 3, 60_000, 120_000), 0);
  });
});

describe('loginWaitMs', () => {
  const limits = { maxPerIp: 5, maxPerAccount: 3, windowMs: 60_000, accountSlowdownMs: 10_000 };

  it('an account past its limit is slowed to one attempt per interval, never locked for the window', () => {
    assert.equal(loginWaitMs([], [1_000, 2_000], limits, 10_000), 0);
    assert.equal(loginWaitMs([], [1_000, 2_000, 8_000], limits, 10_000), 8_000);
    assert.equal(loginWaitMs([], [1_000, 2_000, 8_000], limits, 18_000), 0, 'the owner gets a turn');
  });

  it('a client IP past its limit waits until the window frees a slot', () => {
    assert.equal(loginWaitMs([1_000, 2_000, 3_000, 4_000, 5_000], [], limits, 10_000), 51_000);
  });

  it('parallel attempts count each other (they are recorded before the password is checked)', () => {
    const inFlight = [9_990, 9_991, 9_992];
    assert.ok(loginWaitMs([], inFlight, limits, 10_000) > 0);
  });
});

describe('refresh tokens', () => {
  it('are 256-bit opaque strings stored only as a hash', () => {
    const { token, hash } = newRefreshToken();
    assert.ok(isWellFormedRefreshToken(token));
    assert.equal(hash, hashRefreshToken(token));
    assert.equal(hash.length, 64);
    assert.notEqual(newRefreshToken().token, token);
    assert.equal(isWellFormedRefreshToken('rt1.short'), false);
  });
});
