import { Injectable } from '@nestjs/common';
import type { Message } from '@im/proto/client/v1';
import type { ConversationCommand } from '@im/proto/events/v1';
import { claimId, type Decision, type SequencingState } from '../../domain/sequencing.js';
import { MentionsTable } from '../../storage/mentions.table.js';
import { MessageChangesTable } from '../../storage/message-changes.table.js';
import { MessageClaimsTable } from '../../storage/message-claims.table.js';
import { MediaUsesTable } from '../../storage/media-uses.table.js';
import { MessagesTable } from '../../storage/messages.table.js';
import { ThreadRepliesTable } from '../../storage/thread-replies.table.js';
import type { BatchItem, CommandHandler, ConversationBatch, Needs, Outbox } from '../command-handler.js';
import { acceptedAt, outgoing, publishChange } from './message-update.js';
import { replyRefOf } from '../../domain/threads.js';

/**
 * sendMessage: a new message gets the next seq; a known (sender, clientMsgId) gets its original.
 * A reply also gives its root the next version with the root's new reply count (ADR 0012).
 */
@Injectable()
export class SendMessageHandler implements CommandHandler<'sendMessage'> {
  readonly kind = 'sendMessage';

  constructor(
    private readonly claims: MessageClaimsTable,
    private readonly messages: MessagesTable,
    private readonly mentions: MentionsTable,
    private readonly threads: ThreadRepliesTable,
    private readonly changes: MessageChangesTable,
    private readonly mediaUses: MediaUsesTable,
  ) {}

  needs(item: BatchItem<'sendMessage'>): Needs {
    const { replyTo } = item.body;
    return { claim: this.key(item), readers: [item.callerId], ...(replyTo ? { message: replyTo } : {}) };
  }

  decide(state: SequencingState, item: BatchItem<'sendMessage'>, index: number): Decision {
    const { messageId, replyTo } = item.body;
    const reply = replyTo ? { root: replyTo, at: acceptedAt(item) } : undefined;
    return state.send({ kind: 'send', ...this.key(item), messageId, ...(reply ? { reply } : {}) }, index);
  }

  store(batch: ConversationBatch, index: number): void {
    const d = batch.decisions[index]!;
    const item = batch.items[index] as BatchItem<'sendMessage'>;
    if (d.kind !== 'new' && d.kind !== 'existing') return;
    batch.claims.set(claimId(this.key(item)), { seq: d.seq, messageId: d.messageId });
    const conversationId = item.command.conversationId;
    if (d.thread)
      batch.statements.push(
        this.messages.updateStatement(d.thread.message, 'thread'),
        this.changes.insertStatement(conversationId, d.thread.version, d.thread.seq),
      );
    // a client's retry (another message id) keeps the stored message's thread, whatever it names
    if (item.body.replyTo && d.messageId === item.body.messageId)
      batch.statements.push(this.threads.insertStatement(conversationId, item.body.replyTo, d.seq));
    if (d.kind === 'new') {
      const msg = toMessage(item.command, d.seq, d.messageId, batch.now);
      batch.stored[index] = msg;
      batch.statements.push(
        this.claims.claimStatement(item.command.conversationId, msg, { seq: d.seq, messageId: d.messageId }),
        this.messages.insertStatement(msg),
        ...this.mentions.statements(msg.conversationId, msg.seq, msg.senderId, msg.mentions),
        ...this.mediaUses.statements(msg.conversationId, msg.seq, mediaIdsOf(msg)),
      );
      return;
    }
    batch.writes.push(
      (async () => {
        // the original, or (a replay after a crash between claim and row) the row written now
        let msg = await this.messages.get(item.command.conversationId, d.seq);
        const wrote = !msg;
        if (!msg) {
          // and its claim again: a store that lost the row may have lost the claim with it
          msg = toMessage(item.command, d.seq, d.messageId, batch.now);
          const claim = this.claims.claimStatement(item.command.conversationId, msg, {
            seq: d.seq,
            messageId: d.messageId,
          });
          await Promise.all([
            this.messages.insert(msg),
            this.claims.write(claim),
            this.mentions.insert(msg.conversationId, msg.seq, msg.senderId, msg.mentions),
            this.mediaUses.insert(msg.conversationId, msg.seq, mediaIdsOf(msg)),
          ]);
        }
        // a retry may name another root than the original did: quote the original's, as it is now
        const rootSeq = msg.replyTo?.seq;
        if (rootSeq !== undefined && !batch.messages.has(rootSeq))
          msg = {
            ...msg,
            replyTo: replyRefOf(rootSeq, await this.messages.get(msg.conversationId, rootSeq)),
          };
        batch.stored[index] = msg;
        return wrote;
      })(),
    );
  }

  publish(batch: ConversationBatch, index: number, out: Outbox): void {
    const d = batch.decisions[index]!;
    const { command } = batch.items[index]!;
    const stored = batch.stored[d.kind === 'duplicate' ? d.of : index];
    if (!stored) return; // only 'refused' has no message, and refusals are answered by the sequencer
    const msg = outgoing(batch, stored);
    out.reply(command, { $case: 'messageStored', value: { message: msg, created: d.kind === 'new' } });
    if (d.kind === 'duplicate') return;
    // existing ones too: a replay may not have published before the crash (clients dedupe by seq)
    out.liveToMembers(batch.memberIds, { event: { $case: 'messageNew', value: msg } });
    out.event(`created/${msg.seq}`, msg.createdAt ? new Date(msg.createdAt) : batch.now, {
      $case: 'messageCreated',
      value: { message: msg, conversationType: batch.conversation.type },
    });
    if ((d.kind === 'new' || d.kind === 'existing') && d.thread)
      publishChange(batch, d.thread, command.caller?.userId ?? '', out);
  }

  private key(item: BatchItem<'sendMessage'>) {
    return { senderId: item.callerId, clientMsgId: item.body.clientMsgId };
  }
}

const mediaIdsOf = (m: Message) => m.attachments.map((a) => a.mediaId);

/**
 * The stored message of a send. Everything in it comes from the command, the time included (when
 * it was issued), so a replay, or a stalled sequencer writing late, writes exactly the same row.
 */
function toMessage(command: ConversationCommand, seq: number, messageId: string, now: Date): Message {
  const send = command.command?.$case === 'sendMessage' ? command.command.value : undefined;
  return {
    id: messageId,
    conversationId: command.conversationId,
    seq,
    senderId: command.caller?.userId ?? '',
    clientMsgId: send?.clientMsgId ?? '',
    text: send?.text ?? '',
    createdAt: command.issuedAt || now.toISOString(),
    ...(send?.replyTo ? { replyTo: { seq: send.replyTo, senderId: '', preview: '' } } : {}),
    attachments: send?.attachments ?? [],
    reactions: [],
    version: 0,
    mentions: send?.mentions ?? [],
    replyCount: 0,
    lastReplySeq: 0,
  };
}
