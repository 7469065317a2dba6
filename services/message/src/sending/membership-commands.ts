import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@im/platform/errors';
import { CONFIG } from '@im/platform/nest';
import type { Conversation } from '@im/proto/client/v1';
import type { Caller } from '@im/proto/common/v1';
import type { ChangeMembersCommand } from '@im/proto/events/v1';
import type { MessageConfig } from '../config.js';
import { ConversationService } from '../conversations/conversation.service.js';
import { validateMemberUpdate, type Role } from '../domain/conversation-rules.js';
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
    @Inject(CONFIG) private readonly config: MessageConfig,
  ) {}

  async add(
    caller: Caller,
    conversationId: string,
    userIds: readonly string[],
    role: string,
  ): Promise<Conversation> {
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
    await this.conversations.requireRoomFor(unique.filter((_, i) => !already[i]));
    const maxMembers =
      row.type === 'channel' ? this.config.CHANNEL_MAX_MEMBERS : this.config.GROUP_MAX_MEMBERS;
    await this.submit(caller, conversationId, {
      $case: 'add',
      value: { userIds: unique, role: wanted, maxMembers },
    });
    return this.conversations.announceMembership(caller, conversationId, []);
  }

  /** Joins a channel of the caller's tenant. */
  join(caller: Caller, conversationId: string): Promise<Conversation> {
    return this.add(caller, conversationId, [caller.userId], 'member');
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
