import { Injectable } from '@nestjs/common';
import type { Decision, SequencingState } from '../../domain/sequencing.js';
import type { BatchItem, CommandHandler, ConversationBatch, Needs, Outbox } from '../command-handler.js';

/**
 * Who hears that `userId` read: the reader's own devices always; the other members only in
 * conversations small enough for receipts, when both the reader and they share read receipts.
 */
export function receiptAudience(batch: ConversationBatch, userId: string): string[] {
  const sharing = batch.receiptsSharing;
  if (!sharing.get(userId)) return [userId];
  return batch.memberIds.filter((m) => m === userId || sharing.get(m));
}

/** markRead: the caller's read marker moves forward (never back, never past the last message). */
@Injectable()
export class MarkReadHandler implements CommandHandler<'markRead'> {
  readonly kind = 'markRead';

  needs(item: BatchItem<'markRead'>): Needs {
    return { readers: [item.callerId], receipts: true };
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
    out.live(receiptAudience(batch, userId), {
      event: { $case: 'read', value: { conversationId, userId, seq: d.readSeq } },
    });
    out.event(`read/${userId}/${d.readSeq}`, batch.now, { $case: 'readMarked', value: marked });
  }
}
