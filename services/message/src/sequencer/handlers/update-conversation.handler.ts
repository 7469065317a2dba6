import { Injectable } from '@nestjs/common';
import { CONVERSATION_CHANGE } from '../../domain/message-updates.js';
import type { Decision, SequencingState } from '../../domain/sequencing.js';
import { ConversationsTable } from '../../storage/conversations.table.js';
import { MessageChangesTable } from '../../storage/message-changes.table.js';
import type { BatchItem, CommandHandler, ConversationBatch, Needs, Outbox } from '../command-handler.js';

/**
 * updateConversation: title, topic, archived, announcement. Takes the conversation's next version
 * like a message update, so members who were offline get the new settings from sync.
 */
@Injectable()
export class UpdateConversationHandler implements CommandHandler<'updateConversation'> {
  readonly kind = 'updateConversation';

  constructor(
    private readonly conversations: ConversationsTable,
    private readonly changes: MessageChangesTable,
  ) {}

  needs(item: BatchItem<'updateConversation'>): Needs {
    // the caller's role as it is when the change comes up, not when it was accepted
    return { readers: [], roles: [item.callerId] };
  }

  decide(state: SequencingState, item: BatchItem<'updateConversation'>): Decision {
    return state.updateSettings(item.body.allowed, item.callerId);
  }

  store(batch: ConversationBatch, index: number): void {
    const d = batch.decisions[index]!;
    if (d.kind !== 'conversationChanged') return;
    const { title, topic, archived, announcement } = (batch.items[index] as BatchItem<'updateConversation'>)
      .body;
    const id = batch.conversation.conversationId;
    batch.statements.push(
      this.conversations.settingsStatement(id, { title, topic, archived, announcement }, d.version),
      this.changes.insertStatement(id, d.version, CONVERSATION_CHANGE),
    );
  }

  publish(batch: ConversationBatch, index: number, out: Outbox): void {
    const d = batch.decisions[index]!;
    if (d.kind !== 'conversationChanged') return;
    const { command, callerId, body } = batch.items[index] as BatchItem<'updateConversation'>;
    // the accepting replica tells the members (it reads their views); the sequencer answers and
    // records the change downstream
    out.reply(command, { $case: 'conversationChanged', value: { version: d.version } });
    const { title, topic, archived, announcement } = body;
    out.event(`settings/${d.version}`, batch.now, {
      $case: 'conversationSettingsChanged',
      value: { title, topic, archived, announcement, changedBy: callerId, version: d.version },
    });
  }
}
