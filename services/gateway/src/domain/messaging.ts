import { Injectable } from '@nestjs/common';
import type { Attachment, Message } from '@im/proto/client/v1';
import type { Caller } from '@im/proto/common/v1';
import type { SyncResponse } from '@im/proto/message/v1';
import { Downstream } from '../clients/downstream.js';
import { SendLimiter } from './send-limiter.js';

export interface SendInput {
  conversationId: string;
  clientMsgId: string;
  text: string;
  replyTo?: number | undefined;
  attachments?: Attachment[] | undefined;
  mentions?: string[] | undefined;
}

/** What REST and WebSocket requests share: one call path, one rate limit, one set of errors. */
@Injectable()
export class Messaging {
  constructor(
    private readonly downstream: Downstream,
    private readonly limiter: SendLimiter,
  ) {}

  async send(caller: Caller, input: SendInput): Promise<{ message: Message; created: boolean }> {
    this.limiter.take(caller.userId);
    const res = await this.downstream.message.sendMessages({
      caller,
      conversationId: input.conversationId,
      clientMsgId: input.clientMsgId,
      text: input.text,
      replyTo: input.replyTo,
      attachments: input.attachments ?? [],
      mentions: input.mentions ?? [],
    });
    return { message: res.message!, created: res.created };
  }

  async edit(caller: Caller, conversationId: string, seq: number, text: string): Promise<Message> {
    this.limiter.take(caller.userId);
    return (await this.downstream.message.editMessage({ caller, conversationId, seq, text })).message!;
  }

  async delete(caller: Caller, conversationId: string, seq: number): Promise<Message> {
    this.limiter.take(caller.userId);
    return (await this.downstream.message.deleteMessage({ caller, conversationId, seq })).message!;
  }

  async react(
    caller: Caller,
    conversationId: string,
    seq: number,
    emoji: string,
    add: boolean,
  ): Promise<Message> {
    this.limiter.take(caller.userId);
    return (await this.downstream.message.react({ caller, conversationId, seq, emoji, add })).message!;
  }

  async pin(caller: Caller, conversationId: string, seq: number, pin: boolean): Promise<Message> {
    this.limiter.take(caller.userId);
    return (await this.downstream.message.pinMessage({ caller, conversationId, seq, pin })).message!;
  }

  markRead(
    caller: Caller,
    conversationId: string,
    seq: number,
  ): Promise<{ readSeq: number; unreadCount: number }> {
    return this.downstream.message.markRead({ caller, conversationId, seq });
  }

  sync(
    caller: Caller,
    conversations: Array<{ conversationId: string; afterSeq: number; afterVersion: number }>,
    limit?: number,
  ): Promise<SyncResponse> {
    return this.downstream.message.sync({ caller, conversations, limit: limit ?? 0 });
  }
}
