import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MembershipRow } from '../storage/members.table.js';
import { MembershipCache } from './membership-cache.js';

/** A cache over a members table whose reads the test answers, one at a time. */
function cacheOverSlowTable() {
  const reads: Array<(row: MembershipRow | undefined) => void> = [];
  const table = {
    membership: () => new Promise<MembershipRow | undefined>((resolve) => reads.push(resolve)),
  };
  const nats = { publish: () => undefined };
  const registry = { subjects: { membershipChanged: 'changed' } };
  const cache = new MembershipCache(
    table as never,
    {} as never,
    {} as never,
    nats as never,
    registry as never,
  );
  return { cache, reads };
}

const member = { role: 'member', muted: false } as unknown as MembershipRow;

describe('MembershipCache', () => {
  it('keeps a membership it read', async () => {
    const { cache, reads } = cacheOverSlowTable();
    const first = cache.membership('u', 'c');
    reads.shift()!(member);
    assert.equal(await first, member);
    assert.equal(await cache.membership('u', 'c'), member);
    assert.equal(reads.length, 0, 'answered from the cache');
  });

  it('does not keep a read that was in flight when the conversation changed (a removal, a mute)', async () => {
    const { cache, reads } = cacheOverSlowTable();
    const stale = cache.membership('u', 'c');
    cache.announceChange('c'); // the sequencer removed u meanwhile
    reads.shift()!(member); // the read began before the removal: it still saw u as a member
    assert.equal(await stale, member, 'its caller gets what it read');
    const again = cache.membership('u', 'c');
    assert.equal(reads.length, 1, 'the next lookup reads again');
    reads.shift()!(undefined);
    assert.equal(await again, undefined);
  });

  it('keeps a read in flight while another conversation changed', async () => {
    const { cache, reads } = cacheOverSlowTable();
    const read = cache.membership('u', 'c');
    cache.announceChange('other');
    reads.shift()!(member);
    assert.equal(await read, member);
    assert.equal(await cache.membership('u', 'c'), member);
    assert.equal(reads.length, 0, 'answered from the cache');
  });

  it('a change drops its own conversation’s memberships, and only those', async () => {
    const { cache, reads } = cacheOverSlowTable();
    const look = async (u: string, c: string) => {
      const answer = cache.membership(u, c);
      reads.shift()?.(member);
      return answer;
    };
    for (const [u, c] of [
      ['u1', 'c1'],
      ['u2', 'c1'],
      ['u1', 'c2'],
    ] as const)
      await look(u, c);
    cache.announceChange('c1');
    const again = cache.membership('u2', 'c1');
    assert.equal(reads.length, 1, 'c1 is read again');
    reads.shift()!(undefined);
    assert.equal(await again, undefined);
    assert.equal(await cache.membership('u1', 'c2'), member);
    assert.equal(reads.length, 0, 'c2 answered from the cache');
  });
});
