import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Roster } from './membership-changes.js';
import { claimId, planConversation, SequencingState, type Claim, type PlannedCommand } from './sequencing.js';

const send = (clientMsgId: string, messageId = `m-${clientMsgId}`, senderId = 's'): PlannedCommand => ({
  kind: 'send',
  clientMsgId,
  messageId,
  senderId,
});
const read = (userId: string, seq: number): PlannedCommand => ({ kind: 'read', userId, seq });
const none = new Map<string, Claim>();
/** A stored claim of sender 's' (the default sender of send()). */
const claimOf = (clientMsgId: string, senderId = 's') => claimId({ senderId, clientMsgId });

describe('planConversation', () => {
  it('numbers new messages densely after lastSeq', () => {
    const plan = planConversation([send('a'), send('b'), send('c')], 41, none, new Map());
    assert.deepEqual(
      plan.decisions.map((d) => (d.kind === 'new' ? d.seq : d.kind)),
      [42, 43, 44],
    );
    assert.equal(plan.lastSeq, 44);
  });

  it('answers a stored clientMsgId with its seq and does not advance', () => {
    const claims = new Map([[claimOf('a'), { seq: 7, messageId: 'orig' }]]);
    const plan = planConversation([send('a', 'retry'), send('b')], 10, claims, new Map());
    assert.deepEqual(plan.decisions[0], { kind: 'existing', seq: 7, messageId: 'orig' });
    assert.deepEqual(plan.decisions[1], { kind: 'new', seq: 11, messageId: 'm-b' });
  });

  it("never answers one sender's clientMsgId with another sender's message", () => {
    // bob stored "42" earlier; alice now sends "42" twice and carol once, in one batch
    const claims = new Map([[claimOf('42', 'bob'), { seq: 3, messageId: 'bobs' }]]);
    const plan = planConversation(
      [
        send('42', 'alices', 'alice'),
        send('42', 'bobs-retry', 'bob'),
        send('42', 'carols', 'carol'),
        send('42', 'again', 'alice'),
      ],
      5,
      claims,
      new Map(),
    );
    assert.deepEqual(plan.decisions, [
      { kind: 'new', seq: 6, messageId: 'alices' },
      { kind: 'existing', seq: 3, messageId: 'bobs' },
      { kind: 'new', seq: 7, messageId: 'carols' },
      { kind: 'duplicate', of: 0 },
    ]);
    assert.equal(plan.lastSeq, 7);
  });

  it('collapses duplicates inside one batch onto the first', () => {
    const plan = planConversation([send('a'), send('a'), send('b'), send('a')], 0, none, new Map());
    assert.deepEqual(plan.decisions[1], { kind: 'duplicate', of: 0 });
    assert.deepEqual(plan.decisions[3], { kind: 'duplicate', of: 0 });
    assert.equal(plan.lastSeq, 2);
  });

  it('replays a crashed batch to the same seqs whichever claims were written before the crash', () => {
    const batch = [send('a'), send('b'), send('c'), send('d')];
    const first = planConversation(batch, 100, none, new Map());
    const seqs = first.decisions.map((d) => (d.kind === 'new' ? d.seq : -1));
    // any subset of the claims may have reached Cassandra before the crash
    for (let mask = 0; mask < 16; mask++) {
      const written = new Map<string, Claim>();
      batch.forEach((c, i) => {
        if (mask & (1 << i) && c.kind === 'send')
          written.set(claimOf(c.clientMsgId), { seq: seqs[i]!, messageId: c.messageId });
      });
      const replay = planConversation(batch, 100, written, new Map());
      assert.deepEqual(
        replay.decisions.map((d) => (d.kind === 'new' || d.kind === 'existing' ? d.seq : -1)),
        seqs,
        `claims written: ${mask.toString(2)}`,
      );
      assert.equal(replay.lastSeq, 104);
    }
  });

  it('continues after claims above the recovered lastSeq (rows written before the crash, state not)', () => {
    const claims = new Map([
      [claimOf('a'), { seq: 11, messageId: 'x' }],
      [claimOf('b'), { seq: 12, messageId: 'y' }],
    ]);
    const plan = planConversation([send('a'), send('b'), send('new')], 10, claims, new Map());
    assert.deepEqual(plan.decisions[2], { kind: 'new', seq: 13, messageId: 'm-new' });
  });

  it("moves the sender's read marker to their own new message (members only)", () => {
    const plan = planConversation(
      [send('a', 'm1', 'alice'), send('b', 'm2', 'bob')],
      4,
      none,
      new Map([['alice', 2]]),
    );
    assert.deepEqual(
      [...plan.readSeqs],
      [['alice', 5]],
      'bob is not a member here: no marker is created for him',
    );
  });

  it('moves read markers only forward and never past the last message', () => {
    const plan = planConversation(
      [read('u', 5), read('u', 3), read('v', 99), send('a')],
      10,
      none,
      new Map([
        ['u', 0],
        ['v', 8],
      ]),
    );
    assert.deepEqual(plan.decisions[0], { kind: 'read', readSeq: 5, moved: true });
    assert.deepEqual(plan.decisions[1], { kind: 'read', readSeq: 5, moved: false });
    assert.deepEqual(
      plan.decisions[2],
      { kind: 'read', readSeq: 10, moved: true },
      'clamped to lastSeq at that point',
    );
    assert.deepEqual(
      [...plan.readSeqs],
      [
        ['u', 5],
        ['v', 10],
      ],
    );
  });

  it('refuses the read marker of someone who is not (or no longer) a member, and writes nothing', () => {
    const plan = planConversation([read('gone', 3)], 10, none, new Map([['u', 1]]));
    assert.deepEqual(plan.decisions[0], {
      kind: 'refused',
      code: 'not_found',
      message: 'no such conversation',
    });
    assert.deepEqual([...plan.readSeqs], []);
  });
});

describe('SequencingState.changeMembers', () => {
  it('those added have read up to the seq of their joining, not the messages after it in the batch', () => {
    const roster: Roster = {
      type: 'group',
      members: new Map([['a', { role: 'owner', muted: false }]]),
      count: 1,
    };
    const state = new SequencingState(5, new Map(), new Map(), 0, new Map(), { pinned: 0 }, roster);
    state.send({ kind: 'send', senderId: 'a', clientMsgId: 'c1', messageId: 'm1' }, 0);
    const joined = state.changeMembers({
      kind: 'add',
      actorId: 'a',
      userIds: ['x'],
      role: 'member',
      maxMembers: 10,
    });
    state.send({ kind: 'send', senderId: 'a', clientMsgId: 'c2', messageId: 'm2' }, 2);
    assert.equal(joined.kind === 'membersChanged' && joined.readSeq, 6);
    assert.equal(state.lastSeq, 7, 'the message after the join is unread to x');
  });
});

describe('SequencingState.updateSettings', () => {
  const roster = (): Roster => ({
    type: 'group',
    members: new Map([
      ['o', { role: 'owner', muted: false }],
      ['ad', { role: 'admin', muted: false }],
    ]),
    count: 2,
  });
  const stateOf = (r: Roster) => new SequencingState(0, new Map(), new Map(), 0, new Map(), { pinned: 0 }, r);

  it('an admin may; one demoted earlier in the batch, or once the conversation closed, may not', () => {
    assert.equal(stateOf(roster()).updateSettings(true, 'ad').kind, 'conversationChanged');
    const demoted = stateOf(roster());
    demoted.changeMembers({ kind: 'update', actorId: 'o', userId: 'ad', role: 'member' });
    assert.equal(
      demoted.updateSettings(true, 'ad').kind,
      'refused',
      'accepted while admin, decided as member',
    );
    const closed = stateOf(roster());
    closed.changeMembers({ kind: 'remove', actorId: 'ad', userId: 'ad', handOverTo: '' });
    closed.changeMembers({ kind: 'remove', actorId: 'o', userId: 'o', handOverTo: '' });
    assert.equal(closed.memberCount, 0);
    assert.equal(closed.updateSettings(true, 'o').kind, 'refused');
    assert.equal(stateOf(roster()).updateSettings(false, 'o').kind, 'refused', 'refused when accepted');
  });
});
