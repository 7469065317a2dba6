import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '@im/platform/errors';
import { effectiveStatus, keyToken, validateStatus } from './presence-rules.js';

describe('presence rules', () => {
  it('is offline without devices, whatever was chosen', () => {
    assert.equal(effectiveStatus({ devices: {}, explicit: 'busy' }), 'offline');
  });

  it('is online with any device unless the user chose otherwise', () => {
    assert.equal(effectiveStatus({ devices: { 'gw/1': 1 } }), 'online');
    assert.equal(effectiveStatus({ devices: { 'gw/1': 1, 'gw/2': 2 }, explicit: 'busy' }), 'busy');
    assert.equal(effectiveStatus({ devices: { 'gw/1': 1 }, explicit: 'offline' }), 'offline', 'invisible');
  });

  it('validates status and text', () => {
    assert.deepEqual(validateStatus('online', undefined), { explicit: undefined, text: undefined });
    assert.deepEqual(validateStatus('busy', ' in a meeting '), { explicit: 'busy', text: 'in a meeting' });
    for (const [s, t] of [
      ['sleeping', undefined],
      ['busy', 'x'.repeat(141)],
      ['away', 'bell\u0007'],
    ] as const) {
      assert.throws(
        () => validateStatus(s, t),
        (e: unknown) => e instanceof AppError && e.code === 'invalid_argument',
      );
    }
  });

  it('makes ids safe as NATS key tokens', () => {
    assert.equal(keyToken('vm.example.com-12'), 'vm_example_com-12');
  });
});
