import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Role } from './conversation-rules.js';
import { applyMembershipChange, usersOf, type MembershipChange, type Roster } from './membership-changes.js';
import { SequencingState } from './sequencing.js';

const roster = (members: Record<string, Role | [Role, boolean]>, type: Roster['type'] = 'group'): Roster => ({
  type,
  members: new Map(
    Object.entries(members).map(([u, r]) => [
      u,
      Array.isArray(r) ? { role: r[0], muted: r[1] } : { role: r, muted: false },
    ]),
  ),
  count: Object.keys(members).length,
});
const outcomeOf = (r: Roster, c: MembershipChange) => {
  const o = applyMembershipChange(r, c, 1);
  return o.kind === 'refused' ? o.code : 'ok';
};

describe('membership changes', () => {
  it('adds only new members, within the limit; joining a channel needs no role', () => {
    const r = roster({ o: 'owner', a: 'admin', m: 'member' });
    const added = applyMembershipChange(
      r,
      { kind: 'add', actorId: 'a', userIds: ['m', 'x', 'x'], role: 'member', maxMembers: 10 },
      7,
    );
    assert.deepEqual(added.kind === 'membersChanged' && [added.added, added.count, added.version], [
      ['x'],
      4,
      7,
    ]);
    assert.equal(
      outcomeOf(r, { kind: 'add', actorId: 'o', userIds: ['y', 'z'], role: 'member', maxMembers: 5 }),
      'invalid_argument',
    );
    assert.equal(
      outcomeOf(r, { kind: 'add', actorId: 'm', userIds: ['y'], role: 'member', maxMembers: 10 }),
      'forbidden',
    );
    assert.equal(
      outcomeOf(r, { kind: 'add', actorId: 'a', userIds: ['y'], role: 'admin', maxMembers: 10 }),
      'forbidden',
    );
    assert.equal(
      outcomeOf(r, { kind: 'add', actorId: 'n', userIds: ['y'], role: 'member', maxMembers: 10 }),
      'not_found',
    );
    const channel = roster({ o: 'owner' }, 'channel');
    assert.equal(
      outcomeOf(channel, { kind: 'add', actorId: 'n', userIds: ['n'], role: 'member', maxMembers: 10 }),
      'ok',
    );
    assert.equal(channel.members.get('n')?.role, 'member');
  });

  it('roles are the owner’s; mutes are admins’ (the owner’s for admins); nobody changes the owner', () => {
    const r = roster({ o: 'owner', a: 'admin', b: 'admin', m: 'member' });
    assert.equal(outcomeOf(r, { kind: 'update', actorId: 'a', userId: 'm', role: 'admin' }), 'forbidden');
    assert.equal(outcomeOf(r, { kind: 'update', actorId: 'a', userId: 'b', muted: true }), 'forbidden');
    assert.equal(outcomeOf(r, { kind: 'update', actorId: 'm', userId: 'm', muted: false }), 'forbidden');
    assert.equal(outcomeOf(r, { kind: 'update', actorId: 'a', userId: 'o', muted: true }), 'forbidden');
    assert.equal(outcomeOf(r, { kind: 'update', actorId: 'a', userId: 'gone', muted: true }), 'not_found');
    const muted = applyMembershipChange(r, { kind: 'update', actorId: 'a', userId: 'm', muted: true }, 3);
    assert.deepEqual(muted.kind === 'membersChanged' && muted.updated, [
      { userId: 'm', role: 'member', muted: true },
    ]);
    const promoted = applyMembershipChange(
      r,
      { kind: 'update', actorId: 'o', userId: 'm', role: 'admin' },
      4,
    );
    assert.deepEqual(promoted.kind === 'membersChanged' && promoted.updated, [
      { userId: 'm', role: 'admin', muted: true },
    ]);
  });

  it('the owner leaving hands over, or closes the conversation as its last member', () => {
    const r = roster({ o: 'owner', a: 'admin', m: 'member' });
    assert.equal(outcomeOf(r, { kind: 'remove', actorId: 'o', userId: 'o', handOverTo: '' }), 'conflict');
    assert.equal(outcomeOf(r, { kind: 'remove', actorId: 'o', userId: 'o', handOverTo: 'x' }), 'conflict');
    assert.equal(outcomeOf(r, { kind: 'remove', actorId: 'a', userId: 'o', handOverTo: '' }), 'forbidden');
    const left = applyMembershipChange(r, { kind: 'remove', actorId: 'o', userId: 'o', handOverTo: 'm' }, 5);
    assert.ok(left.kind === 'membersChanged');
    assert.deepEqual(
      [left.removed, left.updated, left.count, left.closed],
      [['o'], [{ userId: 'm', role: 'owner', muted: false }], 2, false],
    );
    const alone = roster({ o: 'owner' });
    const closed = applyMembershipChange(
      alone,
      { kind: 'remove', actorId: 'o', userId: 'o', handOverTo: '' },
      6,
    );
    assert.ok(closed.kind === 'membersChanged' && closed.closed && closed.count === 0);
    // a closed channel stays closed: joining it is refused
    const gone = roster({}, 'channel');
    assert.equal(
      outcomeOf(gone, { kind: 'add', actorId: 'x', userIds: ['x'], role: 'member', maxMembers: 10 }),
      'forbidden',
    );
  });

  it('a mute outlives leaving: the removed member’s mute is on record, and joining again is muted', () => {
    const r = roster({ o: 'owner', m: ['member', true], n: 'member' }, 'channel');
    const left = applyMembershipChange(r, { kind: 'remove', actorId: 'm', userId: 'm', handOverTo: '' }, 2);
    assert.deepEqual(left.kind === 'membersChanged' && left.removedMuted, ['m']);
    const back = applyMembershipChange(
      r,
      { kind: 'add', actorId: 'm', userIds: ['m'], role: 'member', maxMembers: 10 },
      3,
    );
    assert.deepEqual(back.kind === 'membersChanged' && [back.added, back.addedMuted], [['m'], ['m']]);
    assert.equal(r.members.get('m')?.muted, true);
    const other = applyMembershipChange(r, { kind: 'remove', actorId: 'n', userId: 'n', handOverTo: '' }, 4);
    assert.deepEqual(other.kind === 'membersChanged' && other.removedMuted, []);
  });

  it('two admins removing and promoting one member at once: whichever comes second is decided on the first', () => {
    const stateOf = (r: Roster) =>
      new SequencingState(0, new Map(), new Map(), 10, new Map(), { pinned: 0 }, r);
    const removeFirst = stateOf(roster({ o: 'owner', a: 'admin', m: 'member' }));
    assert.equal(
      removeFirst.changeMembers({ kind: 'remove', actorId: 'a', userId: 'm', handOverTo: '' }).kind,
      'membersChanged',
    );
    const late = removeFirst.changeMembers({ kind: 'update', actorId: 'o', userId: 'm', role: 'admin' });
    assert.ok(late.kind === 'refused' && late.code === 'not_found');
    assert.equal(removeFirst.lastVersion, 11, 'a refusal takes no version');

    const promoteFirst = stateOf(roster({ o: 'owner', a: 'admin', m: 'member' }));
    assert.equal(
      promoteFirst.changeMembers({ kind: 'update', actorId: 'o', userId: 'm', role: 'admin' }).kind,
      'membersChanged',
    );
    const now = promoteFirst.changeMembers({ kind: 'remove', actorId: 'a', userId: 'm', handOverTo: '' });
    assert.ok(now.kind === 'refused' && now.code === 'forbidden', 'an admin does not remove another admin');
    assert.deepEqual(usersOf({ kind: 'remove', actorId: 'o', userId: 'o', handOverTo: 'm' }).sort(), [
      'm',
      'o',
      'o',
    ]);
  });
});
