import { Inject, Injectable } from '@nestjs/common';
import { AppError, isErrorCode } from '@im/platform/errors';
import { bindService, requireCaller as caller, type ServiceBinding } from '@im/platform/grpc';
import { uuidv7 } from '@im/platform/ids';
import { CONFIG } from '@im/platform/nest';
import type { CommandResult } from '@im/proto/events/v1';
import { MessageServiceService } from '@im/proto/message/v1';
import type { MessageConfig } from '../config.js';
import { ConversationService } from '../conversations/conversation.service.js';
import { validateSend } from '../domain/message-rules.js';
import { HistoryService } from '../history/history.service.js';
import { CommandBus } from '../sending/command-bus.js';

/** im.message.v1.MessageService: unpack, check the caller, call the domain. */
@Injectable()
export class MessageGrpcApi {
  constructor(
    private readonly conversations: ConversationService,
    private readonly history: HistoryService,
    private readonly commands: CommandBus,
    @Inject(CONFIG) private readonly config: MessageConfig,
  ) {}

  binding(): ServiceBinding {
    return bindService('im.message.v1.MessageService', MessageServiceService, {
      createConversation: (r) => this.conversations.create(caller(r.caller), r.type, r.memberIds, r.title),
      getConversation: async (r) => ({
        conversation: await this.conversations.get(caller(r.caller), r.conversationId),
      }),
      listConversations: (r) => this.conversations.list(caller(r.caller), r.cursor, r.limit),
      addMembers: async (r) => ({
        conversation: await this.conversations.addMembers(
          caller(r.caller),
          r.conversationId,
          r.userIds,
          r.role,
        ),
      }),
      removeMember: async (r) => ({
        conversation: await this.conversations.removeMember(caller(r.caller), r.conversationId, r.userId),
      }),
      sendMessage: async (r) => {
        const c = caller(r.caller);
        validateSend(r, this.config.MESSAGE_MAX_TEXT_CHARS);
        await this.conversations.authorize(c, r.conversationId);
        const { replyTo, attachments, clientMsgId, text } = r;
        const result = await this.commands.submit(c, r.conversationId, {
          $case: 'sendMessage',
          value: { clientMsgId, text, replyTo, attachments, messageId: uuidv7() },
        });
        const stored = expectResult(result, 'messageStored');
        return { message: stored.message, created: stored.created };
      },
      listMessages: (r) =>
        this.history.list(caller(r.caller), r.conversationId, r.beforeSeq, r.afterSeq, r.limit, r.ascending),
      markRead: async (r) => {
        const c = caller(r.caller);
        if (r.seq < 0) throw new AppError('invalid_argument', 'seq: not negative');
        await this.conversations.authorize(c, r.conversationId);
        const result = await this.commands.submit(c, r.conversationId, {
          $case: 'markRead',
          value: { seq: r.seq },
        });
        const read = expectResult(result, 'readMarked');
        return { readSeq: read.readSeq, unreadCount: Math.max(0, read.lastSeq - read.readSeq) };
      },
      sync: (r) => this.history.sync(caller(r.caller), r.conversations, r.limit),
      checkMembership: (r) => this.conversations.checkMembership(caller(r.caller), r.conversationId),
      listContacts: async (r) => ({ userIds: await this.conversations.contacts(caller(r.caller), r.limit) }),
    });
  }
}

type Success = Exclude<NonNullable<CommandResult['result']>, { $case: 'error' }>;
type ResultOf = { [S in Success as S['$case']]: S['value'] };

/** The sequencer's answer of the expected kind, or the AppError it carries. */
function expectResult<K extends keyof ResultOf>(result: CommandResult, kind: K): ResultOf[K] {
  const r = result.result;
  if (r?.$case === 'error')
    throw new AppError(isErrorCode(r.value.code) ? r.value.code : 'internal', r.value.message);
  if (r?.$case !== kind) throw new AppError('internal', 'unexpected result from the sequencer');
  return r.value as ResultOf[K];
}
