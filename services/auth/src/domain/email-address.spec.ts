import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '@im/platform/errors';
import {
  EMAIL_DOMAINS_MAX,
  normalizeDomain,
  normalizeEmail,
  normalizeEmailDomains,
} from './email-address.js';

const invalid = (fn: () => unknown) =>
  assert.throws(fn, (e: unknown) => e instanceof AppError && e.code === 'invalid_argument');

describe('email addresses and domains', () => {
  it('lower-cases an address and splits off its domain', () => {
    assert.deepEqual(normalizeEmail('  Bob.Smith+chat@ACME.Example. '), {
      address: 'bob.smith+chat@acme.example',
      domain: 'acme.example',
    });
  });

  it('refuses what is not an address', () => {
    for (const bad of [
      '',
      'bob',
      '@acme.example',
      'bob@',
      'bob@localhost',
      'bob@acme..example',
      'bob@-acme.example',
      'bob@acme.123',
      '.bob@acme.example',
      'bo..b@acme.example',
      'bob smith@acme.example',
      'bob@acme.example>',
      'bob%relay.example@acme.example',
      'relay!bob@acme.example',
      'bob/x@acme.example',
      `${'b'.repeat(65)}@acme.example`,
      `bob@${'a'.repeat(250)}.example`,
    ])
      invalid(() => normalizeEmail(bad));
  });

  it('takes domains of two or more DNS labels only', () => {
    assert.equal(normalizeDomain('Eu.Acme.Example'), 'eu.acme.example');
    for (const bad of [
      'acme',
      'acme.',
      '*.acme.example',
      'acme_corp.example',
      `${'a'.repeat(64)}.example`,
      '10.0.0.1',
    ])
      assert.equal(normalizeDomain(bad), undefined, bad);
  });

  it('stores a tenant’s list lower-cased, once, sorted, and bounded', () => {
    assert.deepEqual(normalizeEmailDomains(['b.example', 'A.example', 'a.example']), [
      'a.example',
      'b.example',
    ]);
    assert.deepEqual(normalizeEmailDomains([]), []);
    invalid(() => normalizeEmailDomains(['a.example', 'not a domain']));
    invalid(() =>
      normalizeEmailDomains(Array.from({ length: EMAIL_DOMAINS_MAX + 1 }, (_, i) => `d${i}.example`)),
    );
  });
});
