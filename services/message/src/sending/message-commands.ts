import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@im/platform/errors';
import { uuidv7 } from '@im/platform/ids';
import { tenantSetting } from '@im/platform/config';
import { CONFIG } from '@im/platform/nest';
import type { Caller } from '@im/proto/common/v1';
import type { Conversation, Message } from '@im/proto/client/v1';
import type {
  DeleteMessageRequest,
  EditMessageRequest,
  PinMessageRequest,
  ReactRequest,
  SendMessageRequest,
  UpdateConversationRequest,
} from '@im/proto/message/v1';
import type { MessageConfig } from '../config.js';
import { ConversationService } from '../conversations/conversation.service.js';
import { assertMayWrite, mayChangeSettings, validateSettings } from '../domain/conversation-rules.js';
import {
  MENTION_ALL,
  mayMentionAll,
  validateEditText,
  validateEmoji,
  validateEmojiToRemove,
  validateSend,
  validateSeq,
} from '../domain/message-rules.js';
import { threadRootOf } from '../domain/threads.js';
import { MediaClient } from '../clients/media.client.js';
import { MessageClaimsTable } from '../storage/message-claims.table.js';
import { MessagesTable } from '../storage/messages.table.js';
import { CommandBus } from './command-bus.js';

/** The use cases that change a conversation through its sequencer: checked here, decided there. */
@Injectable()
export class MessageCommands {
  constructor(
    private readonly conversations: ConversationService,
    private readonly bus: CommandBus,
    private readonly messages: MessagesTable,
    private readonly claims: MessageClaimsTable,
    private readonly media: MediaClient,
    @Inject(CONFIG) private readonly config: MessageConfig,
  ) {}

  async send(caller: Caller, r: SendMessageRequest) {
    validateSend(r, this.config.MESSAGE_MAX_TEXT_CHARS);
    const mentions = [...new Set(r.mentions)];
    await this.conversations.authorizeWrite(caller, r.conversationId, 'send');
    if (mentions.length > 0) {
      const refusal = await this.checkMentions(caller, r.conversationId, mentions).then(
        () => undefined,
        (err: unknown) => err,
      );
      // a retry of a message stored before a mention turned invalid (the member left) gets the
      // original from the sequencer, as every retry does
      const key = { senderId: caller.userId, clientMsgId: r.clientMsgId };
      if (refusal && !(await this.claims.get(r.conversationId, key))) throw refusal;
    }
    const { clientMsgId, text } = r;
    // what the media service says about each file, not what the client claimed
    const attachments = await this.media.attachments(
      caller,
      r.attachments.map((a) => a.mediaId),
    );
    // a reply to a reply joins its thread; the sequencer checks the root (exists, not deleted)
    const replyTo =
      r.replyTo === undefined
        ? undefined
        : threadRootOf(await this.messages.get(r.conversationId, r.replyTo), r.replyTo);
    // the id is made here, so a replay of the command stores the same message
    return this.bus.submit(
      caller,
      r.conversationId,
      {
        $case: 'sendMessage',
        value: { clientMsgId, text, replyTo, attachments, messageId: uuidv7(), mentions },
      },
      'messageStored',
    );
  }

  /** The caller is a member; everyone mentioned is a member; "all" only where the role allows it. */
  private async checkMentions(
    caller: Caller,
    conversationId: string,
    mentions: readonly string[],
  ): Promise<void> {
    const { row, membership } = await this.conversations.requireMember(caller, conversationId);
    if (mentions.includes(MENTION_ALL) && !mayMentionAll(row.type, membership.role))
      throw new AppError('forbidden', 'mentions: in channels only admins mention "all"');
    const users = mentions.filter((m) => m !== MENTION_ALL);
    const members = await Promise.all(users.map((u) => this.conversations.isMember(u, conversationId)));
    const strangers = users.filter((_, i) => !members[i]);
    if (strangers.length > 0)
      throw new AppError(
        'invalid_argument',
        `mentions: not members of the conversation: ${strangers.slice(0, 5).join(', ')}`,
      );
  }

  async edit(caller: Caller, r: EditMessageRequest): Promise<Message> {
    validateSeq(r.seq);
    validateEditText(r.text, this.config.MESSAGE_MAX_TEXT_CHARS);
    await this.conversations.authorizeWrite(caller, r.conversationId, 'change');
    const window = tenantSetting(
      this.config.MESSAGE_EDIT_WINDOW_BY_TENANT,
      caller.tenantId,
      this.config.MESSAGE_EDIT_WINDOW_SECONDS,
    );
    return this.change(caller, r.conversationId, {
      $case: 'editMessage',
      value: { seq: r.seq, text: r.text, editWindowSeconds: window },
    });
  }

  async delete(caller: Caller, r: DeleteMessageRequest): Promise<Message> {
    validateSeq(r.seq);
    const { row, membership } = await this.conversations.requireMember(caller, r.conversationId);
    assertMayWrite(row, membership, 'change');
    const asModerator = row.type !== 'direct' && (membership.role === 'owner' || membership.role === 'admin');
    return this.change(caller, r.conversationId, {
      $case: 'deleteMessage',
      value: { seq: r.seq, asModerator },
    });
  }

  async react(caller: Caller, r: ReactRequest): Promise<Message> {
    validateSeq(r.seq);
    if (r.add) validateEmoji(r.emoji);
    else validateEmojiToRemove(r.emoji);
    await this.conversations.authorizeWrite(caller, r.conversationId, 'change');
    return this.change(caller, r.conversationId, {
      $case: 'react',
      value: {
        seq: r.seq,
        emoji: r.emoji,
        add: r.add,
        maxDistinct: this.config.MESSAGE_MAX_DISTINCT_REACTIONS,
      },
    });
  }

  /** Members pin in groups and direct conversations; in channels, admins and the owner. */
  async pin(caller: Caller, r: PinMessageRequest): Promise<Message> {
    validateSeq(r.seq);
    const { row, membership } = await this.conversations.requireMember(caller, r.conversationId);
    assertMayWrite(row, membership, 'change');
    const allowed = row.type !== 'channel' || membership.role === 'owner' || membership.role === 'admin';
    return this.change(caller, r.conversationId, {
      $case: 'pin',
      value: { seq: r.seq, pin: r.pin, allowed, maxPins: this.config.MESSAGE_MAX_PINS },
    });
  }

  /** Title, topic, archived, announcement: decided and stored by the sequencer, announced from here. */
  async updateSettings(caller: Caller, r: UpdateConversationRequest): Promise<Conversation> {
    const settings = validateSettings(r);
    const { row, membership } = await this.conversations.requireMember(caller, r.conversationId);
    await this.bus.submit(
      caller,
      r.conversationId,
      {
        $case: 'updateConversation',
        value: { ...settings, allowed: mayChangeSettings(row.type, membership.role) },
      },
      'conversationChanged',
    );
    return this.conversations.announceSettings(caller, r.conversationId);
  }

  private async change(
    caller: Caller,
    conversationId: string,
    body: Parameters<CommandBus['submit']>[2],
  ): Promise<Message> {
    return (await this.bus.submit(caller, conversationId, body, 'messageChanged')).message!;
  }

  async markRead(caller: Caller, conversationId: string, seq: number) {
    if (seq < 0) throw new AppError('invalid_argument', 'seq: not negative');
    await this.conversations.authorize(caller, conversationId);
    const read = await this.bus.submit(
      caller,
      conversationId,
      { $case: 'markRead', value: { seq } },
      'readMarked',
    );
    return { readSeq: read.readSeq, unreadCount: Math.max(0, read.lastSeq - read.readSeq) };
  }
}
