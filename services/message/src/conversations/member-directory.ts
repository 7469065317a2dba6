import { Injectable } from '@nestjs/common';
import { AppError } from '@im/platform/errors';
import type { Member } from '@im/proto/client/v1';
import { copiedUnread, withoutCopy } from '../domain/membership-activity.js';
import { ConversationsTable } from '../storage/conversations.table.js';
import { MembersTable } from '../storage/members.table.js';

const PAGE_DEFAULT = 1_000;
const PAGE_MAX = 5_000;
const UNREAD_USERS_MAX = 500;
/** A badge counts at most this many of a user's conversations (the most a client lists anyway). */
const UNREAD_CONVERSATIONS_MAX = 2_000;

/**
 * Reads for other services of the platform (notification): who is in a conversation, and how
 * much each user has unread. No caller: the internal plane asks on the platform's behalf.
 */
@Injectable()
export class MemberDirectory {
  constructor(
    private readonly conversations: ConversationsTable,
    private readonly members: MembersTable,
  ) {}

  async page(
    tenantId: string,
    conversationId: string,
    afterUserId: string,
    limit: number,
  ): Promise<{ members: Member[]; nextAfterUserId: string; conversationType: string }> {
    if (limit < 0 || limit > PAGE_MAX) throw new AppError('invalid_argument', `limit: 1-${PAGE_MAX}`);
    const row = await this.conversations.get(conversationId);
    if (!row || row.tenantId !== tenantId) throw new AppError('not_found', 'no such conversation');
    const size = limit || PAGE_DEFAULT;
    const rows = await this.members.membersPage(conversationId, afterUserId, size);
    return {
      members: rows.map((m) => ({
        userId: m.userId,
        role: m.role,
        joinedAt: m.joinedAt.toISOString(),
        muted: m.muted,
      })),
      nextAfterUserId: rows.length === size ? rows[rows.length - 1]!.userId : '',
      conversationType: row.type,
    };
  }

  async unreadTotals(tenantId: string, userIds: readonly string[]): Promise<Record<string, number>> {
    if (userIds.length > UNREAD_USERS_MAX)
      throw new AppError('invalid_argument', `userIds: at most ${UNREAD_USERS_MAX}`);
    const totals: Record<string, number> = {};
    await Promise.all(
      [...new Set(userIds)].map(async (userId) => {
        const memberships = (await this.members.conversationsOf(userId)).slice(0, UNREAD_CONVERSATIONS_MAX);
        const readSeq = new Map(memberships.map((m) => [m.conversationId, m.readSeq]));
        // counted from the activity copies where there are some (ADR 0032), from rows elsewhere
        const rows = await this.conversations.getMany(withoutCopy(memberships), 'unread_totals');
        totals[userId] =
          memberships.reduce((sum, m) => sum + copiedUnread(m), 0) +
          rows
            .filter((r) => r.tenantId === tenantId)
            .reduce((sum, r) => sum + Math.max(0, r.lastSeq - (readSeq.get(r.conversationId) ?? 0)), 0);
      }),
    );
    return totals;
  }
}
