import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryAfterMs } from './login-throttle.js';
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
