import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '@im/platform/errors';
import { isPlausibleLogin, normalizeTenant, normalizeUsername, validateRegistration } from './credentials.js';

const ok = { tenant: 'default', username: 'Alice.Smith', password: 'correct horse', displayName: '' };

describe('credentials', () => {
  it('normalises usernames and tenants', () => {
    assert.equal(normalizeUsername('  ＡLICE '), 'alice');
    assert.equal(normalizeTenant('', 'default'), 'default');
    assert.equal(normalizeTenant('Acme', 'default'), 'acme');
  });

  it('accepts a valid registration and defaults the display name to the username', () => {
    const r = validateRegistration(ok);
    assert.equal(r.username, 'alice.smith');
    assert.equal(r.displayName, 'alice.smith');
  });

  for (const [what, input, message] of [
    ['a short username', { ...ok, username: 'ab' }, /username/],
    ['a username with spaces', { ...ok, username: 'a b c' }, /username/],
    ['a short password', { ...ok, password: 'short' }, /password must be 8-256/],
    ['a huge password', { ...ok, password: 'x'.repeat(300) }, /password/],
    ['a bad tenant', { ...ok, tenant: 'Has Space' }, /tenant/],
    ['a control character in the display name', { ...ok, displayName: 'a\u0007b' }, /displayName/],
  ] as const) {
    it(`rejects ${what} with invalid_argument`, () => {
      assert.throws(
        () => validateRegistration(input),
        (err: unknown) =>
          err instanceof AppError && err.code === 'invalid_argument' && message.test(err.message),
      );
    });
  }

  it('flags logins that cannot name an account', () => {
    assert.equal(isPlausibleLogin('alice', 'pw', 'default'), true);
    assert.equal(isPlausibleLogin('a', 'pw', 'default'), false);
    assert.equal(isPlausibleLogin('alice', '', 'default'), false);
  });
});
