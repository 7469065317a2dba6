import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@im/platform/errors';
import { CONFIG } from '@im/platform/nest';
import type { Conversation } from '@im/proto/client/v1';
import type { Caller } from '@im/proto/common/v1';
import type { ChangeMembersCommand } from '@im/proto/events/v1';
import type { MessageConfig } from '../config.js';
import { ConversationService } from '../conversations/conversation.service.js';
import { InvitationsService } from '../conversations/invitations.service.js';
import { assertMayAdd, validateMemberUpdate, type Role } from '../domain/conversation-rules.js';
import { CommandBus } from './command-bus.js';

const ADD_MAX = 1_000;

/**
 * Membership use cases: checked here for what does not change (tenant, users exist, the shape of
 * the request); decided by the conversation's sequencer against the roles as they are then
 * (ADR 0013); announced to the members once stored.
 */
@Injectable()
export class MembershipCommands {
  constructor(
    private readonly conversations: ConversationService,
    private readonly bus: CommandBus,
    private readonly invitations: InvitationsService,
    @Inject(CONFIG) private readonly config: MessageConfig,
  ) {}

  /**
   * Adds the users; where the tenant asks for consent, the others (not the caller) are invited
   * instead (`consented`: they accepted an invitation).
   */
  async add(
    caller: Caller,
    conversationId: string,
    userIds: readonly string[],
    role: string,
    consented = false,
  ): Promise<{ conversation: Conversation; invitedUserIds: string[] }> {
    const unique = [...new Set(userIds)];
    if (unique.length === 0 || unique.length > ADD_MAX)
      throw new AppError('invalid_argument', `userIds: 1-${ADD_MAX} user ids`);
    const wanted: Role = role === 'admin' ? 'admin' : role === '' || role === 'member' ? 'member' : 'owner';
    const row = await this.conversations.requireInTenant(caller, conversationId);
    // only a channel is visible to non-members (joining); the sequencer decides the rest
    const joining = row.type === 'channel' && unique.length === 1 && unique[0] === caller.userId;
    if (!joining && !(await this.conversations.isMember(caller.userId, conversationId)))
      throw new AppError('not_found', 'no such conversation');
    await this.conversations.requireUsers(
      caller,
      unique.filter((u) => u !== caller.userId),
    );
    const already = await Promise.all(unique.map((u) => this.conversations.isMember(u, conversationId)));
    const consent = !consented && (await this.invitations.needed(caller, row));
    const invitedUserIds = consent ? unique.filter((u, i) => u !== caller.userId && !already[i]) : [];
    // with consent nobody but the caller is added: someone who is a member now may have left by
    // the time the sequencer applies an add, which would put them back without asking
    const adding = consent
      ? unique.filter((u, i) => u === caller.userId && !already[i])
      : unique.filter((u) => !invitedUserIds.includes(u));
    if (invitedUserIds.length) {
      // only those who may add may invite: the sequencer decides that for adds, so ask it first
      if (wanted !== 'member') throw new AppError('invalid_argument', 'role: invited people join as members');
      const { membership } = await this.conversations.requireMember(caller, conversationId);
      assertMayAdd(row.type, caller.userId, membership.role, invitedUserIds, 'member');
      await this.invitations.invite(caller, row, invitedUserIds);
    }
    if (adding.length === 0)
      return { conversation: await this.conversations.get(caller, conversationId), invitedUserIds };
    await this.conversations.requireRoomFor(adding.filter((u) => !already[unique.indexOf(u)]));
    const maxMembers =
      row.type === 'channel' ? this.config.CHANNEL_MAX_MEMBERS : this.config.GROUP_MAX_MEMBERS;
    await this.submit(caller, conversationId, {
      $case: 'add',
      value: { userIds: adding, role: wanted, maxMembers },
    });
    return {
      conversation: await this.conversations.announceMembership(caller, conversationId, [], adding),
      invitedUserIds,
    };
  }

  /** Joins a channel of the caller's tenant. */
  async join(caller: Caller, conversationId: string): Promise<Conversation> {
    return (await this.add(caller, conversationId, [caller.userId], 'member')).conversation;
  }

  /**
   * The invited caller joins, added by whoever invited them, with that person's rights as they are
   * now (the sequencer decides). The invitation is used up when that succeeds or is refused for
   * good (the conversation is gone, the inviter left or may no longer add); it stays for a retry
   * after anything else (the caller's conversation cap, an outage).
   */
  async accept(caller: Caller, conversationId: string): Promise<Conversation> {
    const inv = await this.invitations.require(caller, conversationId);
    const inviter = { userId: inv.invitedBy, tenantId: caller.tenantId, sessionId: '' };
    const usedUp = () => this.invitations.remove(caller, conversationId);
    await this.conversations.requireInTenant(caller, conversationId).catch(async (err: unknown) => {
      if (err instanceof AppError && err.code === 'not_found') await usedUp();
      throw err;
    });
    if (!(await this.conversations.isMember(inviter.userId, conversationId))) {
      await usedUp();
      throw new AppError('forbidden', 'whoever invited you is no longer in this conversation');
    }
    try {
      await this.add(inviter, conversationId, [caller.userId], 'member', true);
    } catch (err) {
      if (err instanceof AppError && err.code === 'forbidden') await usedUp();
      throw err;
    }
    await usedUp().catch(() => undefined);
    return this.conversations.get(caller, conversationId);
  }

  async remove(caller: Caller, conversationId: string, userId: string): Promise<Conversation> {
    if (userId === caller.userId) return this.leave(caller, conversationId);
    await this.conversations.requireMember(caller, conversationId);
    await this.submit(caller, conversationId, { $case: 'remove', value: { userId, handOverTo: '' } });
    return this.conversations.announceMembership(caller, conversationId, [userId]);
  }

  /** Leaves; the owner hands over (to `handOverTo`, or the longest-standing admin, else member). */
  async leave(caller: Caller, conversationId: string, handOverTo?: string): Promise<Conversation> {
    const { membership } = await this.conversations.requireMember(caller, conversationId);
    if (
      handOverTo !== undefined &&
      (handOverTo === caller.userId || !(await this.conversations.isMember(handOverTo, conversationId)))
    )
      throw new AppError('invalid_argument', 'handOverTo: another member of the conversation');
    const to =
      membership.role !== 'owner'
        ? ''
        : (handOverTo ?? (await this.conversations.successorOf(conversationId, caller.userId)));
    await this.submit(caller, conversationId, {
      $case: 'remove',
      value: { userId: caller.userId, handOverTo: to },
    });
    return this.conversations.announceMembership(caller, conversationId, [caller.userId]);
  }

  /** A member's role (the owner decides) or mute (admins and the owner). */
  async update(
    caller: Caller,
    conversationId: string,
    userId: string,
    change: { role?: string | undefined; muted?: boolean | undefined },
  ): Promise<Conversation> {
    const valid = validateMemberUpdate(change);
    await this.conversations.requireMember(caller, conversationId);
    await this.submit(caller, conversationId, { $case: 'update', value: { userId, ...valid } });
    return this.conversations.announceMembership(caller, conversationId, []);
  }

  private async submit(
    caller: Caller,
    conversationId: string,
    change: NonNullable<ChangeMembersCommand['change']>,
  ): Promise<void> {
    await this.bus.submit(
      caller,
      conversationId,
      { $case: 'changeMembers', value: { change } },
      'conversationChanged',
    );
  }
}
