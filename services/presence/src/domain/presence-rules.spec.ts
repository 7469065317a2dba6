import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '@im/platform/errors';
import {
  CLOSED_KEPT_MAX,
  CLOSED_KEPT_MS,
  connectDevice,
  disconnectDevice,
  effectiveStatus,
  keyToken,
  validateStatus,
  type UserPresence,
} from './presence-rules.js';

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

  it('a closed device never connects again while remembered; the oldest are forgotten by age and count', () => {
    const p: UserPresence = { tenantId: 't', devices: {} };
    connectDevice(p, 'gw/a', 1, 1);
    disconnectDevice(p, 'gw/a', 1_000);
    connectDevice(p, 'gw/a', 1, 1_001);
    assert.deepEqual(p.devices, {}, 'a late connect of a closed socket');
    connectDevice(p, 'gw/b', 2_000, 2_000);
    assert.deepEqual(p.devices, { 'gw/b': 2_000 });
    disconnectDevice(p, 'gw/b', 1_000 + CLOSED_KEPT_MS + 1);
    assert.deepEqual(Object.keys(p.closed!), ['gw/b'], 'forgotten after CLOSED_KEPT_MS');
    for (let i = 0; i < CLOSED_KEPT_MAX + 5; i++) disconnectDevice(p, `gw/s${i}`, 70_000);
    const kept = Object.keys(p.closed!);
    assert.equal(kept.length, CLOSED_KEPT_MAX);
    assert.equal(kept.at(-1), `gw/s${CLOSED_KEPT_MAX + 4}`, 'the newest kept');
    assert.ok(!kept.includes('gw/b') && !kept.includes('gw/s0'), 'the oldest forgotten');
    connectDevice(p, 'gw/c', 200_000, 200_000);
    assert.equal(p.closed, undefined, 'forgotten by any later change, not only a disconnect');
  });
});
