import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@im/platform/errors';
import { uuidv7 } from '@im/platform/ids';
import { CONFIG } from '@im/platform/nest';
import type { Caller } from '@im/proto/common/v1';
import type { SendMessageRequest } from '@im/proto/message/v1';
import type { MessageConfig } from '../config.js';
import { ConversationService } from '../conversations/conversation.service.js';
import { validateSend } from '../domain/message-rules.js';
import { CommandBus } from './command-bus.js';

/** The use cases that change a conversation through its sequencer: checked here, decided there. */
@Injectable()
export class MessageCommands {
  constructor(
    private readonly conversations: ConversationService,
    private readonly bus: CommandBus,
    @Inject(CONFIG) private readonly config: MessageConfig,
  ) {}

  async send(caller: Caller, r: SendMessageRequest) {
    validateSend(r, this.config.MESSAGE_MAX_TEXT_CHARS);
    await this.conversations.authorize(caller, r.conversationId);
    const { replyTo, attachments, clientMsgId, text } = r;
    // the id is made here, so a replay of the command stores the same message
    return this.bus.submit(
      caller,
      r.conversationId,
      { $case: 'sendMessage', value: { clientMsgId, text, replyTo, attachments, messageId: uuidv7() } },
      'messageStored',
    );
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
