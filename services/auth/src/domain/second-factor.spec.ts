import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  newRecoveryCodes,
  newTotpSecret,
  normalizeRecoveryCode,
  totpCode,
  totpStep,
  totpUri,
} from './second-factor.js';

// RFC 6238 appendix B: the SHA-1 seed "12345678901234567890", 8-digit codes; 6 digits are their tail
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

describe('TOTP', () => {
  it('matches the RFC 6238 test vectors', () => {
    assert.equal(totpCode(RFC_SECRET, 59_000), '287082');
    assert.equal(totpCode(RFC_SECRET, 1_111_111_109_000), '081804');
    assert.equal(totpCode(RFC_SECRET, 1_234_567_890_000), '005924');
    assert.equal(totpStep(RFC_SECRET, '005924', 1_234_567_890_000), Math.floor(1_234_567_890 / 30));
  });

  it('accepts one step of drift either side and nothing further', () => {
    const secret = newTotpSecret();
    const now = Date.now();
    const step = Math.floor(now / 30_000);
    assert.equal(totpStep(secret, totpCode(secret, now - 30_000), now), step - 1);
    assert.equal(totpStep(secret, totpCode(secret, now + 30_000), now), step + 1);
    assert.equal(totpStep(secret, totpCode(secret, now - 90_000), now), undefined);
    assert.equal(totpStep(secret, totpCode(secret, now + 90_000), now), undefined);
  });

  it('refuses what is not six digits', () => {
    const secret = newTotpSecret();
    for (const bad of ['', '12345', '1234567', 'abcdef', ' 123456', '12345\n'])
      assert.equal(totpStep(secret, bad, Date.now()), undefined);
  });

  it('gives 20-byte base32 secrets and an otpauth URI apps read', () => {
    const secret = newTotpSecret();
    assert.match(secret, /^[A-Z2-7]{32}$/);
    const uri = new URL(totpUri(secret, 'Acme Chat', 'alice@acme'));
    assert.equal(uri.protocol, 'otpauth:');
    assert.equal(uri.searchParams.get('secret'), secret);
    assert.equal(uri.searchParams.get('issuer'), 'Acme Chat');
    assert.equal(uri.searchParams.get('digits'), '6');
    assert.equal(uri.searchParams.get('period'), '30');
  });
});

describe('recovery codes', () => {
  it('are ten distinct codes that normalise back from how people type them', () => {
    const codes = newRecoveryCodes();
    assert.equal(new Set(codes).size, 10);
    for (const code of codes) {
      assert.match(code, /^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
      const bare = code.replaceAll('-', '');
      assert.equal(normalizeRecoveryCode(code.toUpperCase()), bare);
      assert.equal(normalizeRecoveryCode(code.replaceAll('-', ' ')), bare);
    }
  });

  it('refuse what cannot be one', () => {
    for (const bad of ['', '123456', 'abcd-efgh-ijkl', 'abcd-efgh-ijkl-mno0', 'abcd-efgh-ijkl-mnopq'])
      assert.equal(normalizeRecoveryCode(bad), undefined);
  });
});
