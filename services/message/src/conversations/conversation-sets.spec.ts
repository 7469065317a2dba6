import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MembersTable } from '../storage/members.table.js';
import { ConversationSets } from './conversation-sets.js';

/** A members table that counts the reads of a user's set, answering them when told to. */
function fakeMembers(ids: string[]) {
  let reads = 0;
  const pending: Array<() => void> = [];
  const table = {
    conversationIdsOf: async () => {
      reads++;
      await new Promise<void>((resolve) => pending.push(resolve));
      return ids;
    },
  } as unknown as MembersTable;
  return {
    table,
    reads: () => reads,
    answer: () => pending.splice(0).forEach((resolve) => resolve()),
  };
}

describe('conversation sets: a quick "no" for conversations a user is not in', () => {
  it('concurrent checks of one user share one read; then ids in the set say "maybe", others "no", without reading', async () => {
    const members = fakeMembers(['c1', 'c2']);
    const sets = new ConversationSets(members.table);
    const checks = Array.from({ length: 10 }, (_, i) => sets.mayBeIn('u', `random-${i}`));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(members.reads(), 1, 'one read in flight for all ten');
    members.answer();
    assert.deepEqual(await Promise.all(checks), Array(10).fill(false));
    assert.equal(await sets.mayBeIn('u', 'c1'), true);
    assert.equal(await sets.mayBeIn('u', 'random-11'), false);
    assert.equal(members.reads(), 1, 'the set is fresh: nothing read again');
  });

  it('each user has a set of its own', async () => {
    const members = fakeMembers(['c1']);
    const sets = new ConversationSets(members.table);
    const a = sets.mayBeIn('a', 'c1');
    const b = sets.mayBeIn('b', 'c9');
    await new Promise((resolve) => setImmediate(resolve));
    members.answer();
    assert.deepEqual([await a, await b], [true, false]);
    assert.equal(members.reads(), 2);
  });

  it('a search scope is the whole set, shared with the checks and reused while fresh', async () => {
    const members = fakeMembers(['c1', 'c2']);
    const sets = new ConversationSets(members.table);
    const scope = sets.idsOf('u');
    await new Promise((resolve) => setImmediate(resolve));
    members.answer();
    assert.deepEqual([...(await scope)], ['c1', 'c2']);
    assert.deepEqual([...(await sets.idsOf('u'))], ['c1', 'c2']);
    assert.equal(await sets.mayBeIn('u', 'c2'), true);
    assert.equal(members.reads(), 1, 'one read for the scope, the next search and the check');
  });

  it('a user who joined or left is read again at the next search; others are not', async () => {
    const members = fakeMembers(['c1']);
    const sets = new ConversationSets(members.table);
    const first = Promise.all([sets.idsOf('a'), sets.idsOf('b')]);
    await new Promise((resolve) => setImmediate(resolve));
    members.answer();
    await first;
    sets.forget(['a', 'nobody-cached']);
    const again = sets.idsOf('a');
    await new Promise((resolve) => setImmediate(resolve));
    members.answer();
    await again;
    await sets.idsOf('b');
    assert.equal(members.reads(), 3, 'a read twice, b once');
  });

  it('a read begun before the user joined is not kept', async () => {
    const members = fakeMembers(['c1']);
    const sets = new ConversationSets(members.table);
    const early = sets.idsOf('u');
    await new Promise((resolve) => setImmediate(resolve));
    sets.forget(['u']); // the join lands while the read is out
    members.answer();
    await early;
    const next = sets.idsOf('u');
    await new Promise((resolve) => setImmediate(resolve));
    members.answer();
    await next;
    assert.equal(members.reads(), 2, 'read again after the join');
  });
});
