import { Injectable } from '@nestjs/common';
import type { Decision, SequencingState } from '../../domain/sequencing.js';
import { MessageChangesTable } from '../../storage/message-changes.table.js';
import { MessagesTable } from '../../storage/messages.table.js';
import { ReactionsTable } from '../../storage/reactions.table.js';
import type { BatchItem, CommandHandler, ConversationBatch, Needs, Outbox } from '../command-handler.js';
import { acceptedAt, decideUpdate, publishUpdate, storeUpdate, updateNeeds } from './message-update.js';

/** react: adds or removes the caller's reaction; idempotent; distinct emojis per message are capped. */
@Injectable()
export class ReactHandler implements CommandHandler<'react'> {
  readonly kind = 'react';

  constructor(
    private readonly messages: MessagesTable,
    private readonly reactions: ReactionsTable,
    private readonly changes: MessageChangesTable,
  ) {}

  needs(item: BatchItem<'react'>): Needs {
    return updateNeeds(item.body.seq);
  }

  decide(state: SequencingState, item: BatchItem<'react'>): Decision {
    const { seq, emoji, add, maxDistinct } = item.body;
    return decideUpdate(state, {
      kind: 'react',
      seq,
      userId: item.callerId,
      emoji,
      add,
      at: acceptedAt(item),
      maxDistinct,
    });
  }

  store(batch: ConversationBatch, index: number): void {
    const { callerId, body } = batch.items[index] as BatchItem<'react'>;
    storeUpdate(batch, index, this.changes.insertStatement.bind(this.changes), (d) => [
      ...this.reactions.statements(d.message.conversationId, d.seq, {
        userId: callerId,
        emoji: body.emoji,
        add: body.add,
        at: new Date(d.reactedAt ?? 0),
        version: d.version,
      }),
      this.messages.updateStatement(d.message, 'reactions'),
    ]);
  }

  publish(batch: ConversationBatch, index: number, out: Outbox): void {
    publishUpdate(batch, index, out, (batch.items[index] as BatchItem<'react'>).body.emoji);
  }
}
