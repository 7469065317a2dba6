import { Injectable } from '@nestjs/common';
import type { Decision, SequencingState } from '../../domain/sequencing.js';
import { MessageChangesTable } from '../../storage/message-changes.table.js';
import { MessagesTable } from '../../storage/messages.table.js';
import { PinsTable } from '../../storage/pins.table.js';
import type { BatchItem, CommandHandler, ConversationBatch, Needs, Outbox } from '../command-handler.js';
import { acceptedAt, decideUpdate, publishUpdate, storeUpdate, updateNeeds } from './message-update.js';

/** pin: pins or unpins a message; idempotent; the pins per conversation are capped. */
@Injectable()
export class PinHandler implements CommandHandler<'pin'> {
  readonly kind = 'pin';

  constructor(
    private readonly messages: MessagesTable,
    private readonly pins: PinsTable,
    private readonly changes: MessageChangesTable,
  ) {}

  needs(item: BatchItem<'pin'>): Needs {
    return { ...updateNeeds(item.body.seq), pins: true };
  }

  decide(state: SequencingState, item: BatchItem<'pin'>): Decision {
    const { seq, pin, allowed, maxPins } = item.body;
    return decideUpdate(state, {
      kind: 'pin',
      seq,
      userId: item.callerId,
      pin,
      allowed,
      at: acceptedAt(item),
      maxPins,
    });
  }

  store(batch: ConversationBatch, index: number): void {
    storeUpdate(batch, index, this.changes.insertStatement.bind(this.changes), (d) => {
      const conversationId = d.message.conversationId;
      const pin = d.message.pin;
      return [
        this.messages.updateStatement(d.message, 'pin'),
        pin
          ? this.pins.pinStatement(conversationId, d.seq, pin.pinnedBy, new Date(pin.pinnedAt!), d.version)
          : this.pins.unpinStatement(conversationId, d.seq, d.version),
      ];
    });
  }

  publish(batch: ConversationBatch, index: number, out: Outbox): void {
    publishUpdate(batch, index, out);
  }
}
