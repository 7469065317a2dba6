import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { KeyEncryption } from './key-encryption.js';

describe('KeyEncryption', () => {
  it('round-trips and does not leave the plaintext visible', () => {
    const enc = new KeyEncryption(randomBytes(32).toString('base64url'));
    const sealed = enc.seal('{"d":"secret"}');
    assert.ok(sealed.startsWith('enc:v1:'));
    assert.ok(!sealed.includes('secret'));
    assert.equal(enc.open(sealed), '{"d":"secret"}');
  });

  it('fails on a tampered value or a wrong key', () => {
    const enc = new KeyEncryption(randomBytes(32).toString('base64url'));
    const sealed = enc.seal('x');
    assert.throws(() => enc.open(sealed.slice(0, -3) + 'AAA'));
    assert.throws(() => new KeyEncryption(randomBytes(32).toString('base64url')).open(sealed));
  });

  it('passes values through when no key is configured, and refuses to open encrypted ones', () => {
    const plain = new KeyEncryption(undefined);
    assert.equal(plain.seal('x'), 'x');
    assert.throws(
      () => plain.open(new KeyEncryption(randomBytes(32).toString('base64url')).seal('x')),
      /not set/,
    );
  });
});
