import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoalescedUpdates } from './coalesced-updates.js';

function deferred() {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  return { done, release };
}

describe('CoalescedUpdates', () => {
  it('changes that arrive during a write go together into the next one, per key', async () => {
    const writes: Array<[string, number]> = [];
    const gate = deferred();
    const records = new Map<string, string[]>();
    const updates = new CoalescedUpdates<string[]>(async (key, changes) => {
      writes.push([key, changes.length]);
      if (writes.length === 1) await gate.done;
      const record = [...(records.get(key) ?? [])];
      for (const c of changes) c(record);
      records.set(key, record);
    });
    const all = [
      updates.apply('u1', (r) => r.push('a')),
      updates.apply('u1', (r) => r.push('b')),
      updates.apply('u1', (r) => r.push('c')),
      updates.apply('u2', (r) => r.push('x')),
    ];
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(writes, [
      ['u1', 1],
      ['u2', 1],
    ]);
    gate.release();
    await Promise.all(all);
    assert.deepEqual(writes, [
      ['u1', 1],
      ['u2', 1],
      ['u1', 2],
    ]);
    assert.deepEqual(records.get('u1'), ['a', 'b', 'c'], 'in arrival order');
    assert.equal(updates.busyKeys, 0);
  });

  it('a failed write rejects exactly the changes it carried; later ones still run', async () => {
    let n = 0;
    const gate = deferred();
    const updates = new CoalescedUpdates<string[]>(async () => {
      n++;
      if (n === 1) {
        await gate.done;
        throw new Error('conflict');
      }
    });
    const first = updates.apply('u', () => undefined);
    const second = updates.apply('u', () => undefined);
    gate.release();
    await assert.rejects(first, /conflict/);
    await second;
    assert.equal(n, 2);
    assert.equal(updates.busyKeys, 0);
  });
});
