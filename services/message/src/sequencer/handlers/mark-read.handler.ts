import { Inject, Injectable } from '@nestjs/common';
import { CONFIG } from '@im/platform/nest';
import type { MessageConfig } from '../../config.js';
import type { Decision, SequencingState } from '../../domain/sequencing.js';
import type { BatchItem, CommandHandler, ConversationBatch, Needs, Outbox } from '../command-handler.js';

/** markRead: the caller's read marker moves forward (never back, never past the last message). */
@Injectable()
export class MarkReadHandler implements CommandHandler<'markRead'> {
  readonly kind = 'markRead';

  constructor(@Inject(CONFIG) private readonly config: MessageConfig) {}

  needs(item: BatchItem<'markRead'>): Needs {
    return { readers: [item.callerId] };
  }

  decide(state: SequencingState, item: BatchItem<'markRead'>): Decision {
    return state.read({ kind: 'read', userId: item.callerId, seq: item.body.seq });
  }

  store(): void {
    // the markers that moved are written by the sequencer (a send moves its sender's marker too)
  }

  publish(batch: ConversationBatch, index: number, out: Outbox): void {
    const d = batch.decisions[index]!;
    const { command, callerId: userId } = batch.items[index]!;
    if (d.kind !== 'read') return;
    const conversationId = batch.conversation.conversationId;
    const marked = { conversationId, userId, readSeq: d.readSeq, lastSeq: batch.lastSeq };
    out.reply(command, { $case: 'readMarked', value: marked });
    if (!d.moved) return;
    const everyone = batch.memberIds.length <= this.config.READ_RECEIPTS_MAX_MEMBERS;
    out.live(everyone ? batch.memberIds : [userId], {
      event: { $case: 'read', value: { conversationId, userId, seq: d.readSeq } },
    });
    out.event(`read/${userId}/${d.readSeq}`, batch.now, { $case: 'readMarked', value: marked });
  }
}
