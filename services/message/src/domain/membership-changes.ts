import { AppError } from '@im/platform/errors';
import {
  assertMayAdd,
  assertMayRemove,
  assertMayUpdateMember,
  type ConversationType,
  type Role,
} from './conversation-rules.js';

/**
 * Membership changes decided in partition order against the roster as it is then (ADR 0013): two
 * admins removing and promoting the same member at once end the same way for everyone, because
 * the second change is decided after the first is applied.
 */

export interface MemberState {
  role: Role;
  muted: boolean;
}

export type MembershipChange =
  | { kind: 'add'; actorId: string; userIds: readonly string[]; role: Role; maxMembers: number }
  /** userId === actorId: leaving; an owner names who takes over ("" when the last member leaves). */
  | { kind: 'remove'; actorId: string; userId: string; handOverTo: string }
  | { kind: 'update'; actorId: string; userId: string; role?: Role | undefined; muted?: boolean | undefined };

export interface MemberUpdate extends MemberState {
  userId: string;
}

export type MembershipRefusal = {
  kind: 'refused';
  code: 'not_found' | 'forbidden' | 'invalid_argument' | 'conflict';
  message: string;
};

export type MembershipOutcome =
  | {
      kind: 'membersChanged';
      version: number;
      added: string[];
      /** The role the added members got. */
      addedRole: Role;
      removed: string[];
      /** Of the added, those muted when they left or were removed (a mute outlives a leave). */
      addedMuted: string[];
      /** Of the removed, those muted: their mute stays on record. */
      removedMuted: string[];
      /** Members whose role or mute changed, as they are now. */
      updated: MemberUpdate[];
      /** The last member left. */
      closed: boolean;
      /** Members after the change. */
      count: number;
      /**
       * The conversation's last seq when the change was decided (set by SequencingState): what
       * those added have read, not a message of the batch that comes after their joining.
       */
      readSeq?: number;
    }
  | MembershipRefusal;

/**
 * The members a batch's membership changes touch (absent: not a member), and how many members the
 * conversation has. Changed in place as changes are applied.
 */
export interface Roster {
  type: ConversationType;
  members: Map<string, MemberState>;
  count: number;
  /** Non-members of those touched who left or were removed while muted. */
  mutedOnRecord?: Set<string>;
}

/** The users a change needs to know about (the actor, its targets, who takes over). */
export function usersOf(change: MembershipChange): string[] {
  switch (change.kind) {
    case 'add':
      return [change.actorId, ...change.userIds];
    case 'remove':
      return [change.actorId, change.userId, ...(change.handOverTo ? [change.handOverTo] : [])];
    case 'update':
      return [change.actorId, change.userId];
  }
}

/** Applies one change to `roster` at `version`, or refuses it and changes nothing. */
export function applyMembershipChange(
  roster: Roster,
  change: MembershipChange,
  version: number,
): MembershipOutcome {
  const { type } = roster;
  const actor = roster.members.get(change.actorId);
  const outcome = {
    kind: 'membersChanged' as const,
    version,
    added: [] as string[],
    addedRole: 'member' as Role,
    removed: [] as string[],
    addedMuted: [] as string[],
    removedMuted: [] as string[],
    updated: [] as MemberUpdate[],
    closed: false,
    count: 0,
  };
  const refusal = check(() => {
    switch (change.kind) {
      case 'add': {
        // the last member left and closed it (archived for good): a channel's self-join included
        if (roster.count === 0) throw new AppError('forbidden', 'this conversation is closed');
        assertMayAdd(type, change.actorId, actor?.role, change.userIds, change.role);
        const added = [...new Set(change.userIds)].filter((u) => !roster.members.has(u));
        if (roster.count + added.length > change.maxMembers)
          throw new AppError('invalid_argument', `a ${type} has at most ${change.maxMembers} members`);
        // leaving and joining again (a channel's members may) does not lift a mute
        const addedMuted = added.filter((u) => roster.mutedOnRecord?.has(u));
        for (const u of added) roster.members.set(u, { role: change.role, muted: addedMuted.includes(u) });
        roster.count += added.length;
        Object.assign(outcome, { added, addedRole: change.role, addedMuted });
        return;
      }
      case 'remove': {
        const target = roster.members.get(change.userId);
        assertMayRemove(type, change.actorId, actor?.role, change.userId, target?.role);
        if (change.handOverTo === change.userId)
          throw new AppError('invalid_argument', 'handOverTo: another member');
        if (target?.role === 'owner') handOver(roster, change.handOverTo, outcome);
        roster.members.delete(change.userId);
        roster.count = Math.max(0, roster.count - 1);
        outcome.removed.push(change.userId);
        if (target?.muted) {
          outcome.removedMuted.push(change.userId);
          (roster.mutedOnRecord ??= new Set()).add(change.userId);
        }
        return;
      }
      case 'update': {
        const target = roster.members.get(change.userId);
        assertMayUpdateMember(type, actor?.role, target?.role, change);
        const next = {
          role: change.role ?? target!.role,
          muted: change.muted ?? target!.muted,
        };
        roster.members.set(change.userId, next);
        outcome.updated.push({ userId: change.userId, ...next });
        return;
      }
    }
  });
  return refusal ?? { ...outcome, count: roster.count };
}

/** The owner leaves: `to` becomes owner (unmuted), or, when nobody else is left, it closes. */
function handOver(roster: Roster, to: string, outcome: { updated: MemberUpdate[]; closed: boolean }): void {
  if (to === '') {
    if (roster.count > 1)
      throw new AppError('conflict', 'members joined meanwhile: the owner hands over to one of them; retry');
    outcome.closed = true;
    return;
  }
  if (!roster.members.has(to)) throw new AppError('conflict', 'handOverTo: no longer a member; retry');
  roster.members.set(to, { role: 'owner', muted: false });
  outcome.updated.push({ userId: to, role: 'owner', muted: false });
}

function check(apply: () => void): MembershipRefusal | undefined {
  try {
    apply();
    return undefined;
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    const code = err.code as MembershipRefusal['code'];
    return { kind: 'refused', code, message: err.message };
  }
}
