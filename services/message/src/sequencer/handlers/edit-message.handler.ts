import { Injectable } from '@nestjs/common';
import type { Decision, SequencingState } from '../../domain/sequencing.js';
import { MessageChangesTable } from '../../storage/message-changes.table.js';
import { MessageEditsTable } from '../../storage/message-edits.table.js';
import { MessagesTable } from '../../storage/messages.table.js';
import type { BatchItem, CommandHandler, ConversationBatch, Needs, Outbox } from '../command-handler.js';
import { acceptedAt, decideUpdate, publishUpdate, storeUpdate, updateNeeds } from './message-update.js';

/** editMessage: the sender replaces the text; the text it replaces is kept server-side. */
@Injectable()
export class EditMessageHandler implements CommandHandler<'editMessage'> {
  readonly kind = 'editMessage';

  constructor(
    private readonly messages: MessagesTable,
    private readonly edits: MessageEditsTable,
    private readonly changes: MessageChangesTable,
  ) {}

  needs(item: BatchItem<'editMessage'>): Needs {
    return updateNeeds(item.body.seq);
  }

  decide(state: SequencingState, item: BatchItem<'editMessage'>): Decision {
    const { seq, text, editWindowSeconds } = item.body;
    return decideUpdate(state, {
      kind: 'edit',
      seq,
      userId: item.callerId,
      text,
      at: acceptedAt(item),
      windowSeconds: editWindowSeconds,
    });
  }

  store(batch: ConversationBatch, index: number): void {
    storeUpdate(batch, index, this.changes.insertStatement.bind(this.changes), (d) => [
      this.messages.updateStatement(d.message, 'edited'),
      this.edits.insertStatement(
        d.message.conversationId,
        d.seq,
        new Date(d.message.editedAt!),
        d.previousText ?? '',
        d.version,
      ),
    ]);
  }

  publish(batch: ConversationBatch, index: number, out: Outbox): void {
    publishUpdate(batch, index, out);
  }
}
