import { AppError } from '@im/platform/errors';

export type ConversationType = 'direct' | 'group' | 'channel';
export type Role = 'owner' | 'admin' | 'member';

export const CONVERSATION_TYPES: readonly ConversationType[] = ['direct', 'group', 'channel'];
export const TITLE_MAX = 200;

export interface Limits {
  groupMaxMembers: number;
  channelMaxMembers: number;
}

/** The other members of a new conversation: deduplicated, without the caller; checked against the type. */
export function newConversationMembers(
  type: string,
  callerId: string,
  memberIds: readonly string[],
  limits: Limits,
): string[] {
  if (!CONVERSATION_TYPES.includes(type as ConversationType)) {
    throw new AppError('invalid_argument', 'type: must be "direct", "group" or "channel"');
  }
  const others = [...new Set(memberIds)].filter((id) => id !== callerId);
  if (type === 'direct' && others.length !== 1) {
    throw new AppError('invalid_argument', 'memberIds: a direct conversation has exactly one other member');
  }
  const max = type === 'channel' ? limits.channelMaxMembers : limits.groupMaxMembers;
  if (others.length + 1 > max)
    throw new AppError('invalid_argument', `memberIds: a ${type} has at most ${max} members`);
  return others;
}

export function validateTitle(title: string): string {
  const t = title.trim();
  if ([...t].length > TITLE_MAX || /\p{Cc}/u.test(t)) {
    throw new AppError('invalid_argument', `title: at most ${TITLE_MAX} printable characters`);
  }
  return t;
}

/** The key that makes a direct conversation unique per pair, whoever creates it. */
export function directPairKey(a: string, b: string): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

/** May `actor` (with role `actorRole`, or no role when not a member) add these users with `role`? */
export function assertMayAdd(
  type: ConversationType,
  actorId: string,
  actorRole: Role | undefined,
  userIds: readonly string[],
  role: Role,
): void {
  if (type === 'direct') throw new AppError('forbidden', 'members of a direct conversation cannot change');
  if (role === 'owner') throw new AppError('invalid_argument', 'role: must be "member" or "admin"');
  const selfJoin = userIds.length === 1 && userIds[0] === actorId;
  if (type === 'channel' && selfJoin && role === 'member') return; // channels are public within the tenant
  if (actorRole === undefined) throw new AppError('not_found', 'no such conversation');
  if (actorRole === 'member') throw new AppError('forbidden', 'only an owner or admin can add members');
  if (role === 'admin' && actorRole !== 'owner')
    throw new AppError('forbidden', 'only the owner can add admins');
}

/** May `actor` remove `target` (role `targetRole`)? Anyone may leave; nobody removes the owner. */
export function assertMayRemove(
  type: ConversationType,
  actorId: string,
  actorRole: Role | undefined,
  targetId: string,
  targetRole: Role | undefined,
): void {
  if (actorRole === undefined) throw new AppError('not_found', 'no such conversation');
  if (type === 'direct') throw new AppError('forbidden', 'members of a direct conversation cannot change');
  if (targetRole === undefined) throw new AppError('not_found', 'that user is not a member');
  if (actorId === targetId) return; // leaving (an owner hands over: see membership-changes.ts)
  if (targetRole === 'owner') throw new AppError('forbidden', 'the owner cannot be removed');
  if (actorRole === 'member') throw new AppError('forbidden', 'only an owner or admin can remove members');
  if (targetRole === 'admin' && actorRole !== 'owner')
    throw new AppError('forbidden', 'only the owner can remove admins');
}

/**
 * May `actor` change `target`'s role (the owner decides roles) or mute (admins mute members, the
 * owner mutes admins too)? Nobody changes the owner.
 */
export function assertMayUpdateMember(
  type: ConversationType,
  actorRole: Role | undefined,
  targetRole: Role | undefined,
  change: { role?: Role | undefined; muted?: boolean | undefined },
): void {
  if (actorRole === undefined) throw new AppError('not_found', 'no such conversation');
  if (type === 'direct') throw new AppError('forbidden', 'members of a direct conversation cannot change');
  if (targetRole === undefined) throw new AppError('not_found', 'that user is not a member');
  if (targetRole === 'owner') throw new AppError('forbidden', 'the owner’s role and mute do not change');
  if (change.role !== undefined && actorRole !== 'owner')
    throw new AppError('forbidden', 'only the owner changes roles');
  if (change.muted !== undefined && actorRole === 'member')
    throw new AppError('forbidden', 'only an owner or admin mutes members');
  if (change.muted !== undefined && targetRole === 'admin' && actorRole !== 'owner')
    throw new AppError('forbidden', 'only the owner mutes admins');
}

/** The body of PATCH …/members/{userId}: a role of "member" or "admin", a mute, or both. */
export function validateMemberUpdate(change: { role?: string | undefined; muted?: boolean | undefined }): {
  role?: Role;
  muted?: boolean;
} {
  if (change.role === undefined && change.muted === undefined)
    throw new AppError('invalid_argument', 'body: at least one of role, muted');
  if (change.role !== undefined && change.role !== 'member' && change.role !== 'admin')
    throw new AppError('invalid_argument', 'role: "member" or "admin" (the owner hands over by leaving)');
  return {
    ...(change.role !== undefined ? { role: change.role as Role } : {}),
    ...(change.muted !== undefined ? { muted: change.muted } : {}),
  };
}

export const TOPIC_MAX = 1_000;

/** The settings of PATCH /v1/conversations/{id}: at least one, each checked. */
export function validateSettings(s: {
  title?: string | undefined;
  topic?: string | undefined;
  archived?: boolean | undefined;
  announcement?: boolean | undefined;
}): { title?: string; topic?: string; archived?: boolean; announcement?: boolean } {
  if (
    s.title === undefined &&
    s.topic === undefined &&
    s.archived === undefined &&
    s.announcement === undefined
  )
    throw new AppError('invalid_argument', 'body: at least one of title, topic, archived, announcement');
  const topic = s.topic?.trim();
  if (topic !== undefined && ([...topic].length > TOPIC_MAX || /(?!\n)\p{Cc}/u.test(topic)))
    throw new AppError('invalid_argument', `topic: at most ${TOPIC_MAX} printable characters`);
  return {
    ...(s.title !== undefined ? { title: validateTitle(s.title) } : {}),
    ...(topic !== undefined ? { topic } : {}),
    ...(s.archived !== undefined ? { archived: s.archived } : {}),
    ...(s.announcement !== undefined ? { announcement: s.announcement } : {}),
  };
}

/** Who changes a conversation's settings: admins and the owner of groups and channels. */
export function mayChangeSettings(type: ConversationType, role: Role): boolean {
  return type !== 'direct' && (role === 'owner' || role === 'admin');
}

/**
 * Whether a member may write (send, edit, delete, react, pin) now: nobody in an archived
 * conversation, no muted member; only admins and the owner send in announcement mode.
 */
export function assertMayWrite(
  c: { archived: boolean; announcement: boolean },
  member: { role: Role; muted: boolean },
  what: 'send' | 'change',
): void {
  const { role } = member;
  if (c.archived) throw new AppError('forbidden', 'the conversation is archived (read-only)');
  if (member.muted) throw new AppError('forbidden', 'you are muted in this conversation');
  if (what === 'send' && c.announcement && role !== 'owner' && role !== 'admin')
    throw new AppError('forbidden', 'only admins post in this conversation');
}
