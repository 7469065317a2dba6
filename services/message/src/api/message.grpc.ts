import { MemberDirectory } from '../conversations/member-directory.js';
import { Injectable } from '@nestjs/common';
import { bindService, requireCaller as caller, type ServiceBinding } from '@im/platform/grpc';
import { MessageServiceService, type SendMessageRequest } from '@im/proto/message/v1';
import { ConversationService } from '../conversations/conversation.service.js';
import { InvitationsService } from '../conversations/invitations.service.js';
import { UserSettingsCache } from '../conversations/user-settings-cache.js';
import { HistoryService } from '../history/history.service.js';
import { SearchService } from '../search/search.service.js';
import { MembershipCommands } from '../sending/membership-commands.js';
import { MessageCommands } from '../sending/message-commands.js';

/** im.message.v1.MessageService: unpack, check the caller, call the domain. */
@Injectable()
export class MessageGrpcApi {
  constructor(
    private readonly conversations: ConversationService,
    private readonly history: HistoryService,
    private readonly commands: MessageCommands,
    private readonly membership: MembershipCommands,
    private readonly searching: SearchService,
    private readonly settings: UserSettingsCache,
    private readonly directory: MemberDirectory,
    private readonly invitations: InvitationsService,
  ) {}

  binding(): ServiceBinding {
    return bindService('im.message.v1.MessageService', MessageServiceService, {
      createConversation: (r) => this.conversations.create(caller(r.caller), r.type, r.memberIds, r.title),
      getConversation: async (r) => ({
        conversation: await this.conversations.get(caller(r.caller), r.conversationId),
      }),
      listConversations: (r) => this.conversations.list(caller(r.caller), r.cursor, r.limit),
      addMembers: (r) => this.membership.add(caller(r.caller), r.conversationId, r.userIds, r.role),
      removeMember: async (r) => ({
        conversation: await this.membership.remove(caller(r.caller), r.conversationId, r.userId),
      }),
      updateMember: async (r) => ({
        conversation: await this.membership.update(caller(r.caller), r.conversationId, r.userId, r),
      }),
      listInvitations: async (r) => ({ invitations: await this.invitations.list(caller(r.caller)) }),
      acceptInvitation: async (r) => ({
        conversation: await this.membership.accept(caller(r.caller), r.conversationId),
      }),
      declineInvitation: async (r) => {
        await this.invitations.decline(caller(r.caller), r.conversationId);
        return {};
      },
      joinConversation: async (r) => ({
        conversation: await this.membership.join(caller(r.caller), r.conversationId),
      }),
      leaveConversation: async (r) => {
        await this.membership.leave(caller(r.caller), r.conversationId, r.handOverTo);
        return {};
      },
      sendMessage: (r) => this.send(r),
      sendMessages: (r) => this.send(r),
      listMessages: (r) =>
        this.history.list(caller(r.caller), r.conversationId, r.beforeSeq, r.afterSeq, r.limit, r.ascending),
      markRead: (r) => this.commands.markRead(caller(r.caller), r.conversationId, r.seq),
      sync: (r) => this.history.sync(caller(r.caller), r.conversations, r.limit),
      editMessage: async (r) => ({ message: await this.commands.edit(caller(r.caller), r) }),
      deleteMessage: async (r) => ({ message: await this.commands.delete(caller(r.caller), r) }),
      react: async (r) => ({ message: await this.commands.react(caller(r.caller), r) }),
      pinMessage: async (r) => ({ message: await this.commands.pin(caller(r.caller), r) }),
      listPins: async (r) => ({ pins: await this.history.pinned(caller(r.caller), r.conversationId) }),
      listReplies: (r) =>
        this.history.replies(caller(r.caller), r.conversationId, r.seq, r.afterSeq, r.limit),
      updateConversation: async (r) => ({
        conversation: await this.commands.updateSettings(caller(r.caller), r),
      }),
      getReceipts: async (r) => ({
        receipts: await this.conversations.receipts(caller(r.caller), r.conversationId),
      }),
      getUserSettings: async (r) => ({ settings: await this.settings.get(caller(r.caller).userId) }),
      updateUserSettings: async (r) => ({
        settings: await this.settings.update(caller(r.caller).userId, { readReceipts: r.readReceipts }),
      }),
      searchMessages: (r) =>
        this.searching.search(caller(r.caller), r.query, r.conversationId, r.cursor, r.limit),
      checkMembership: (r) =>
        this.conversations.checkMembership(caller(r.caller), r.conversationId, r.quickNegative),
      checkMediaAccess: async (r) => ({
        allowed: await this.conversations.mayAccessMedia(caller(r.caller), r.mediaId),
      }),
      listContacts: async (r) => ({ userIds: await this.conversations.contacts(caller(r.caller), r.limit) }),
      listMembers: (r) => this.directory.page(r.tenantId, r.conversationId, r.afterUserId, r.limit),
      getUnreadTotals: async (r) => ({ totals: await this.directory.unreadTotals(r.tenantId, r.userIds) }),
    });
  }
  private async send(r: SendMessageRequest) {
    const stored = await this.commands.send(caller(r.caller), r);
    return { message: stored.message, created: stored.created };
  }
}
