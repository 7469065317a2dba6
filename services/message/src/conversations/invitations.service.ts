import { Inject, Injectable } from '@nestjs/common';
import { CONFIG } from '@im/platform/nest';
import { AppError } from '@im/platform/errors';
import type { Invitation } from '@im/proto/client/v1';
import type { Caller } from '@im/proto/common/v1';
import { AuthClient } from '../clients/auth.client.js';
import type { MessageConfig } from '../config.js';
import { LivePublisher } from '../producers/live-publisher.js';
import { ConversationsTable, type ConversationRow } from '../storage/conversations.table.js';
import { InvitationsTable, type InvitationRow } from '../storage/invitations.table.js';

const LIST_MAX = 200;

/**
 * Consent to being added (a tenant setting, groupAdds "consent"): adding someone to a group or
 * channel invites them instead; they accept (joining as the inviter added them) or decline.
 */
@Injectable()
export class InvitationsService {
  constructor(
    private readonly table: InvitationsTable,
    private readonly conversations: ConversationsTable,
    private readonly auth: AuthClient,
    private readonly live: LivePublisher,
    @Inject(CONFIG) private readonly config: MessageConfig,
  ) {}

  /** Whether adding others to this conversation invites them instead. */
  async needed(caller: Caller, row: ConversationRow): Promise<boolean> {
    return row.type !== 'direct' && (await this.auth.groupAddsNeedConsent(caller.tenantId));
  }

  /**
   * Invites each user who holds no open invitation into this conversation (an open one stays as it
   * is, with its first 30 days); each new one is told on their sockets. Nobody is invited who
   * declined this conversation within 30 days, who holds USER_MAX_OPEN_INVITATIONS already, or
   * INVITER_MAX_OPEN_INVITATIONS from this inviter: neither one inviter nor a few can flood anyone
   * or fill their invitations for everybody else. The caller hears nothing about who was left out
   * or why: what the person declined is theirs.
   */
  async invite(caller: Caller, row: ConversationRow, userIds: readonly string[]): Promise<void> {
    const invitedAt = new Date();
    const conversationId = row.conversationId;
    const { USER_MAX_OPEN_INVITATIONS: cap, INVITER_MAX_OPEN_INVITATIONS: capPerInviter } = this.config;
    const invitable = await Promise.all(
      userIds.map(async (userId) => {
        const [open, declined, held] = await Promise.all([
          this.table.get(userId, conversationId),
          this.table.declined(userId, conversationId),
          this.table.ofUser(userId, cap),
        ]);
        return (
          !open &&
          !declined &&
          held.length < cap &&
          held.filter((i) => i.invitedBy === caller.userId).length < capPerInviter
        );
      }),
    );
    const invited = userIds.filter((_, i) => invitable[i]);
    await Promise.all(
      invited.map((userId) =>
        this.table.put({ userId, conversationId, invitedBy: caller.userId, invitedAt }),
      ),
    );
    for (const userId of invited)
      this.live.publish([userId], {
        event: {
          $case: 'conversationInvited',
          value: view(row, { userId, conversationId, invitedBy: caller.userId, invitedAt }),
        },
      });
  }

  async list(caller: Caller): Promise<Invitation[]> {
    const rows = await this.table.ofUser(caller.userId, LIST_MAX);
    const out: Invitation[] = [];
    for (const inv of rows) {
      const row = await this.conversations.get(inv.conversationId);
      if (row && row.tenantId === caller.tenantId) out.push(view(row, inv));
    }
    return out;
  }

  /** The caller's invitation into the conversation, or not_found. */
  async require(caller: Caller, conversationId: string): Promise<InvitationRow> {
    const inv = await this.table.get(caller.userId, conversationId);
    if (!inv) throw new AppError('not_found', 'no such invitation');
    return inv;
  }

  /** The invitation is used up (accepted, or refused for good). */
  async remove(caller: Caller, conversationId: string): Promise<void> {
    await this.require(caller, conversationId);
    await this.table.delete(caller.userId, conversationId);
  }

  /** Declined: dropped, and the conversation does not invite the caller again for 30 days. */
  async decline(caller: Caller, conversationId: string): Promise<void> {
    await this.require(caller, conversationId);
    await this.table.decline(caller.userId, conversationId, new Date());
  }
}

function view(row: ConversationRow, inv: InvitationRow): Invitation {
  return {
    conversationId: row.conversationId,
    type: row.type,
    title: row.title,
    memberCount: row.memberCount,
    invitedBy: inv.invitedBy,
    invitedAt: inv.invitedAt.toISOString(),
  };
}
