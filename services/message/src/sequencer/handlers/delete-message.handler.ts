import { Injectable } from '@nestjs/common';
import type { Decision, SequencingState } from '../../domain/sequencing.js';
import { MediaUsesTable } from '../../storage/media-uses.table.js';
import { MentionsTable } from '../../storage/mentions.table.js';
import { MessageChangesTable } from '../../storage/message-changes.table.js';
import { MessageEditsTable } from '../../storage/message-edits.table.js';
import { MessagesTable } from '../../storage/messages.table.js';
import { PinsTable } from '../../storage/pins.table.js';
import type { BatchItem, CommandHandler, ConversationBatch, Needs, Outbox } from '../command-handler.js';
import { decideUpdate, publishUpdate, storeUpdate, updateNeeds } from './message-update.js';

/**
 * deleteMessage: soft. The text, attachments (and the members' access to them), reactions, pin,
 * mentions and earlier texts are removed from storage;
 * the row stays as a tombstone (deleted: true) so seqs stay dense.
 */
@Injectable()
export class DeleteMessageHandler implements CommandHandler<'deleteMessage'> {
  readonly kind = 'deleteMessage';

  constructor(
    private readonly messages: MessagesTable,
    private readonly edits: MessageEditsTable,
    private readonly pins: PinsTable,
    private readonly changes: MessageChangesTable,
    private readonly mediaUses: MediaUsesTable,
    private readonly mentions: MentionsTable,
  ) {}

  needs(item: BatchItem<'deleteMessage'>): Needs {
    // a deleted message leaves the pins, so the pin count matters to the batch's later pins
    return { ...updateNeeds(item.body.seq), pins: true };
  }

  decide(state: SequencingState, item: BatchItem<'deleteMessage'>): Decision {
    const { seq, asModerator } = item.body;
    return decideUpdate(state, { kind: 'delete', seq, userId: item.callerId, asModerator });
  }

  store(batch: ConversationBatch, index: number): void {
    storeUpdate(batch, index, this.changes.insertStatement.bind(this.changes), (d) => [
      this.messages.updateStatement(d.message, 'deleted'),
      this.edits.deleteAllStatement(d.message.conversationId, d.seq, d.version),
      this.pins.unpinStatement(d.message.conversationId, d.seq, d.version),
      // its files are no longer shared there: members lose access to them
      ...this.mediaUses.removeStatements(d.message.conversationId, d.seq, d.detached ?? [], d.version),
      // nor does it count as anyone's unread mention
      ...this.mentions.deleteStatements(
        d.message.conversationId,
        d.seq,
        d.message.senderId,
        d.unmentioned ?? [],
        d.version,
      ),
    ]);
  }

  publish(batch: ConversationBatch, index: number, out: Outbox): void {
    publishUpdate(batch, index, out);
  }
}
