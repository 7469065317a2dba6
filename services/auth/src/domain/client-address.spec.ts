import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientKey } from './client-address.js';

describe('clientKey', () => {
  it('counts IPv4 addresses one by one, IPv4-mapped IPv6 as IPv4', () => {
    assert.equal(clientKey('203.0.113.7'), '203.0.113.7');
    assert.equal(clientKey('::ffff:203.0.113.7'), '203.0.113.7');
  });

  it('counts an IPv6 address by its /64, however it is written', () => {
    const a = clientKey('2001:db8:1:2::1');
    assert.equal(a, '2001:db8:1:2::/64');
    assert.equal(clientKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'), a);
    assert.notEqual(clientKey('2001:db8:1:3::1'), a);
    assert.equal(clientKey('::1'), '::/64');
  });

  it('gives unknown and malformed addresses one shared key', () => {
    for (const bad of [undefined, '', 'unknown', '1.2.3', 'x::y', '203.0.113.7, 10.0.0.1'])
      assert.equal(clientKey(bad), 'unknown');
  });
});
