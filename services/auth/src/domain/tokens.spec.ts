import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashInviteCode, isWellFormedInviteCode, newInviteCode } from './tokens.js';

describe('invite codes', () => {
  it('are 192 random bits, stored only as a hash', () => {
    const a = newInviteCode();
    const b = newInviteCode();
    assert.notEqual(a.code, b.code);
    assert.equal(isWellFormedInviteCode(a.code), true);
    assert.equal(a.hash, hashInviteCode(a.code));
    assert.match(a.hash, /^[0-9a-f]{64}$/);
    assert.ok(!a.hash.includes(a.code.slice(5)));
  });

  it('refuses what is not one', () => {
    for (const bad of ['', 'inv1.', 'inv1.short', `inv2.${'a'.repeat(32)}`, `inv1.${'a'.repeat(32)}!`])
      assert.equal(isWellFormedInviteCode(bad), false, bad);
  });
});
