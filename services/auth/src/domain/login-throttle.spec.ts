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
  const limits = {
    windowMs: 60_000,
    maxPerIp: 5,
    maxPerAccountAndIp: 3,
    slowdownMs: 10_000,
    maxPerAccount: 8,
  };
  const none = { ip: [], accountAndIp: [], account: [] };

  it('an account guessed at from one IP slows that IP down on it; the owner elsewhere is not affected', () => {
    const attacker = {
      ip: [1_000, 2_000, 8_000],
      accountAndIp: [1_000, 2_000, 8_000],
      account: [1_000, 2_000, 8_000],
    };
    assert.equal(loginWaitMs(attacker, limits, 10_000), 8_000);
    assert.equal(loginWaitMs(attacker, limits, 18_000), 0, 'slowed, not locked');
    const owner = { ip: [], accountAndIp: [], account: [1_000, 2_000, 8_000] };
    assert.equal(loginWaitMs(owner, limits, 10_000), 0, 'the owner from another IP gets in');
  });

  it('a client IP past its limit waits until the window frees a slot', () => {
    assert.equal(loginWaitMs({ ...none, ip: [1_000, 2_000, 3_000, 4_000, 5_000] }, limits, 10_000), 51_000);
  });

  it('an account attacked from many IPs waits for the window', () => {
    const account = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => i * 1_000);
    assert.equal(loginWaitMs({ ...none, account }, limits, 10_000), 51_000);
  });

  it('parallel attempts count each other (they are recorded before the password is checked)', () => {
    const inFlight = [9_990, 9_991, 9_992];
    assert.ok(loginWaitMs({ ip: inFlight, accountAndIp: inFlight, account: inFlight }, limits, 10_000) > 0);
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
