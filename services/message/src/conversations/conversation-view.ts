import type { Conversation, Member } from '@im/proto/client/v1';
import type { ConversationRow } from '../storage/conversations.table.js';
import type { MemberRow } from '../storage/members.table.js';

/** Members listed in a conversation's view; beyond this, clients page through the members. */
export const VIEW_MEMBERS = 200;

/** The public Conversation as one user sees it (their read marker and unread count). */
export function conversationView(
  row: ConversationRow,
  readSeq: number,
  members?: readonly MemberRow[],
  mentionCount = 0,
): Conversation {
  const read = Math.min(readSeq, row.lastSeq);
  return {
    id: row.conversationId,
    type: row.type,
    title: row.title,
    members: (members ?? []).map((m): Member => ({
      userId: m.userId,
      role: m.role,
      joinedAt: m.joinedAt.toISOString(),
      ...(m.muted ? { muted: true } : {}),
    })),
    lastSeq: row.lastSeq,
    readSeq: read,
    unreadCount: Math.max(0, row.lastSeq - read),
    ...(row.lastMessage ? { lastMessage: row.lastMessage } : {}),
    createdAt: row.createdAt.toISOString(),
    lastActivityAt: row.lastActivityAt.toISOString(),
    memberCount: row.memberCount,
    lastVersion: row.lastVersion,
    mentionCount,
    topic: row.topic,
    archived: row.archived,
    announcement: row.announcement,
    shared: false,
  };
}

/**
 * The view sent once to every member of a large conversation (ADR 0007): settings, counts and
 * members, without anyone's read marker, unread or mention count.
 */
export function sharedConversationView(row: ConversationRow, members: readonly MemberRow[]): Conversation {
  return { ...conversationView(row, 0, members), readSeq: 0, unreadCount: 0, mentionCount: 0, shared: true };
}
