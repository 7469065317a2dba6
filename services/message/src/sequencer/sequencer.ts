import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { nameUuid } from '@im/platform/ids';
import { executeBatched, type CassandraClient, type Statement } from '@im/platform/cassandra';
import { BatchConsumer, type ConsumedBatch } from '@im/platform/kafka';
import type { Logger } from '@im/platform/logging';
import type { NatsConnection } from '@im/platform/nats';
import { CASSANDRA, CONFIG, KAFKA, LOGGER, NATS, Readiness, REGISTRY } from '@im/platform/nest';
import type { Registry } from '@im/platform/registry';
import { meter } from '@im/platform/telemetry';
import type { Message } from '@im/proto/client/v1';
import { CommandResult, ConversationCommand, type ConversationEvent } from '@im/proto/events/v1';
import type { MessageConfig } from '../config.js';
import { MembershipCache } from '../conversations/membership-cache.js';
import { claimId, planConversation, type Claim, type PlannedCommand } from '../domain/sequencing.js';
import { ConversationEvents } from '../producers/conversation-events.js';
import { LivePublisher } from '../producers/live-publisher.js';
import { ConversationsTable, type ConversationRow } from '../storage/conversations.table.js';
import { MembersTable } from '../storage/members.table.js';
import { MessageClaimsTable } from '../storage/message-claims.table.js';
import { MessagesTable } from '../storage/messages.table.js';
import { SequencerState } from './sequencer-state.js';

interface Item {
  command: ConversationCommand;
  planned: PlannedCommand | undefined;
}

const CONVERSATIONS_IN_PARALLEL = 64;

/**
 * The single writer of each conversation: the im.messages.v1 consumer-group member that owns the
 * conversation's partition. Per batch and conversation it
 *   1. plans (dedupe by clientMsgId, next seq, monotonic read markers; domain/sequencing.ts),
 *   2. writes claims and message rows, then last_seq and read markers (claims/rows before last_seq,
 *      so a replay after a crash recomputes the same seqs from the stored last_seq),
 *   3. answers the waiting senders, publishes live events to the members,
 *   4. produces sequenced events to im.events.v1,
 * and only then lets the consumer commit the batch's offsets.
 */
@Injectable()
export class Sequencer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer: BatchConsumer | undefined;
  private readonly sequenced = meter().createCounter('im_message_sequenced_total', {
    description: 'messages given a seq',
  });
  private readonly batchLatency = meter().createHistogram('im_message_sequencer_batch_ms', {
    description: 'time to sequence one batch',
  });

  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(REGISTRY) private readonly registry: Registry,
    @Inject(CONFIG) private readonly config: MessageConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(NATS) private readonly nats: NatsConnection,
    @Inject(CASSANDRA) private readonly db: CassandraClient,
    private readonly state: SequencerState,
    private readonly conversations: ConversationsTable,
    private readonly messages: MessagesTable,
    private readonly claimsTable: MessageClaimsTable,
    private readonly members: MembersTable,
    private readonly membership: MembershipCache,
    private readonly live: LivePublisher,
    private readonly events: ConversationEvents,
    readiness: Readiness,
  ) {
    readiness.add({
      name: 'sequencer',
      check: async () => {
        if (!this.consumer?.isRunning) throw new Error('sequencer consumer not running');
      },
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = new BatchConsumer(this.kafka, {
      groupId: this.registry.groups.messageSequencer,
      topics: [this.registry.topics.conversationCommands],
      logger: this.logger,
      sessionTimeoutMs: this.config.SEQUENCER_SESSION_TIMEOUT_MS,
      partitionsConsumedConcurrently: this.config.KAFKA_TOPIC_PARTITIONS,
      // Another member may have written these conversations since we last owned them.
      onAssignment: () => this.state.clear(),
      handle: (batch) => this.handle(batch),
    });
    await this.consumer.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }

  private async handle(batch: ConsumedBatch): Promise<void> {
    const t0 = performance.now();
    const byConversation = new Map<string, Item[]>();
    for (const record of batch.messages) {
      const item = this.decode(record);
      if (!item) continue;
      let list = byConversation.get(item.command.conversationId);
      if (!list) byConversation.set(item.command.conversationId, (list = []));
      list.push(item);
    }
    const entries = [...byConversation];
    const events: ConversationEvent[] = [];
    for (let i = 0; i < entries.length; i += CONVERSATIONS_IN_PARALLEL) {
      if (batch.isStale()) return; // the partition moved to another member: it will redo this
      const chunk = entries.slice(i, i + CONVERSATIONS_IN_PARALLEL);
      const results = await Promise.all(chunk.map(([id, items]) => this.sequenceConversation(id, items)));
      for (const r of results) events.push(...r);
    }
    if (events.length > 0) await this.events.publish(events);
    this.batchLatency.record(performance.now() - t0);
  }

  private decode(record: KafkaMessage): Item | undefined {
    try {
      const command = ConversationCommand.decode(record.value!);
      const c = command.command;
      const planned: PlannedCommand | undefined =
        c?.$case === 'sendMessage'
          ? {
              kind: 'send',
              clientMsgId: c.value.clientMsgId,
              messageId: c.value.messageId,
              senderId: command.caller?.userId ?? '',
            }
          : c?.$case === 'markRead'
            ? { kind: 'read', userId: command.caller?.userId ?? '', seq: c.value.seq }
            : undefined;
      return { command, planned };
    } catch (err) {
      this.logger.error({ err, offset: record.offset }, 'undecodable command skipped');
      return undefined;
    }
  }

  /** Sequences one conversation's commands of this batch; returns its events for im.events.v1. */
  private async sequenceConversation(conversationId: string, items: Item[]): Promise<ConversationEvent[]> {
    const conversation = await this.state.conversation(conversationId);
    const valid = items.filter((i) => i.planned !== undefined);
    for (const bad of items.filter((i) => i.planned === undefined || !conversation)) {
      this.reply(bad.command, {
        $case: 'error',
        value: { code: 'not_found', message: 'no such conversation' },
      });
    }
    if (!conversation || valid.length === 0) return [];

    const [claims, readSeqs, lastSeq] = await Promise.all([
      this.lookupClaims(
        conversationId,
        valid.map((i) => i.planned!),
      ),
      this.lookupReadSeqs(
        conversationId,
        valid.map((i) => i.planned!),
      ),
      this.state.lastSeq(conversationId),
    ]);
    // a read marker of someone who is no longer a member must not recreate their row
    const members = valid.filter((i) => i.planned!.kind !== 'read' || readSeqs.has(i.planned!.userId));
    for (const gone of valid.filter((i) => !members.includes(i))) {
      this.reply(gone.command, {
        $case: 'error',
        value: { code: 'not_found', message: 'no such conversation' },
      });
    }
    valid.splice(0, valid.length, ...members);
    if (valid.length === 0) return [];
    const planned = valid.map((i) => i.planned!);
    const plan = planConversation(planned, lastSeq, claims, readSeqs);

    // 2. store: claims, rows and read markers in unlogged batches; then, only once those are
    //    written, the conversation's last_seq (the recovery point after a crash)
    const now = new Date();
    const stored: Array<Message | undefined> = new Array(valid.length);
    const statements: Statement[] = [];
    plan.decisions.forEach((d, i) => {
      if (d.kind !== 'new') return;
      const msg = toMessage(valid[i]!.command, d.seq, d.messageId, now);
      stored[i] = msg;
      statements.push(
        this.claimsTable.claimStatement(conversationId, msg, {
          seq: d.seq,
          messageId: d.messageId,
        }),
      );
      statements.push(this.messages.insertStatement(msg));
    });
    for (const [userId, seq] of plan.readSeqs)
      statements.push(this.members.readSeqStatement(userId, conversationId, seq));
    await Promise.all([
      statements.length > 0 ? executeBatched(this.db, statements) : undefined,
      ...plan.decisions.map(async (d, i) => {
        if (d.kind !== 'existing') return;
        // the original, or (replay after a crash between claim and row) the row written now
        let msg = await this.messages.get(conversationId, d.seq);
        if (!msg) {
          msg = toMessage(valid[i]!.command, d.seq, d.messageId, now);
          await this.messages.insert(msg);
        }
        stored[i] = msg;
      }),
    ]);
    const newest = lastStored(plan.decisions, stored, lastSeq);
    if (plan.lastSeq > lastSeq || newest)
      await this.conversations.updateLast(conversationId, plan.lastSeq, newest);
    this.state.advance(conversationId, plan.lastSeq, plan.readSeqs, claimsOf(plan.decisions, valid));

    // 3. answer and fan out
    const memberIds = (await this.membership.membersOf(conversationId)).map((m) => m.userId);
    const events: ConversationEvent[] = [];
    let created = 0;
    plan.decisions.forEach((d, i) => {
      const { command } = valid[i]!;
      if (d.kind === 'read') {
        const userId = command.caller!.userId;
        this.reply(command, {
          $case: 'readMarked',
          value: { conversationId, userId, readSeq: d.readSeq, lastSeq: plan.lastSeq },
        });
        if (d.moved) {
          const audience = memberIds.length <= this.config.READ_RECEIPTS_MAX_MEMBERS ? memberIds : [userId];
          this.live.publish(audience, {
            event: { $case: 'read', value: { conversationId, userId, seq: d.readSeq } },
          });
          events.push(
            event(conversation, now, `read/${userId}/${d.readSeq}`, {
              $case: 'readMarked',
              value: { conversationId, userId, readSeq: d.readSeq, lastSeq: plan.lastSeq },
            }),
          );
        }
        return;
      }
      const source = d.kind === 'duplicate' ? d.of : i;
      const msg = stored[source]!;
      const isNew = d.kind === 'new';
      this.reply(command, { $case: 'messageStored', value: { message: msg, created: isNew } });
      if (d.kind === 'duplicate') return;
      if (isNew) created++;
      // existing ones too: a replay may not have published before the crash (clients dedupe by seq)
      this.live.publish(memberIds, { event: { $case: 'messageNew', value: msg } });
      events.push(
        event(conversation, msg.createdAt ? new Date(msg.createdAt) : now, `created/${msg.seq}`, {
          $case: 'messageCreated',
          value: { message: msg, conversationType: conversation.type },
        }),
      );
    });
    this.sequenced.add(created);
    return events;
  }

  private async lookupClaims(
    conversationId: string,
    planned: readonly PlannedCommand[],
  ): Promise<Map<string, Claim>> {
    const keys = new Map<string, { senderId: string; clientMsgId: string }>();
    for (const p of planned) if (p.kind === 'send') keys.set(claimId(p), p);
    const out = new Map<string, Claim>();
    await Promise.all(
      [...keys].map(async ([id, key]) => {
        const claim =
          this.state.recentClaim(conversationId, id) ?? (await this.claimsTable.get(conversationId, key));
        if (claim) out.set(id, claim);
      }),
    );
    return out;
  }

  private async lookupReadSeqs(
    conversationId: string,
    planned: readonly PlannedCommand[],
  ): Promise<Map<string, number>> {
    // readers, and senders (their own messages count as read)
    const users = [...new Set(planned.map((p) => (p.kind === 'read' ? p.userId : p.senderId)))];
    const out = new Map<string, number>();
    await Promise.all(
      users.map(async (u) => {
        const seq = await this.state.readSeq(conversationId, u);
        if (seq !== undefined) out.set(u, seq);
      }),
    );
    return out;
  }

  private reply(command: ConversationCommand, result: CommandResult['result']): void {
    if (!command.replySubject) return;
    this.nats.publish(
      command.replySubject,
      CommandResult.encode({ commandId: command.commandId, result }).finish(),
    );
  }
}

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
    ...(send?.replyTo ? { replyTo: send.replyTo } : {}),
    attachments: send?.attachments ?? [],
    reactions: [],
  };
}

/**
 * The newest message this batch stored, for the conversation list. Existing ones count only above
 * the previous last_seq (a replay); a client retrying an old message must not make it "last".
 */
function lastStored(
  decisions: ReturnType<typeof planConversation>['decisions'],
  stored: Array<Message | undefined>,
  previousLastSeq: number,
): Message | undefined {
  let best: Message | undefined;
  decisions.forEach((d, i) => {
    const counts = d.kind === 'new' || (d.kind === 'existing' && d.seq > previousLastSeq);
    if (counts && stored[i] && (!best || stored[i]!.seq > best.seq)) best = stored[i];
  });
  return best;
}

function claimsOf(
  decisions: ReturnType<typeof planConversation>['decisions'],
  items: readonly Item[],
): Map<string, Claim> {
  const out = new Map<string, Claim>();
  decisions.forEach((d, i) => {
    const p = items[i]!.planned;
    if ((d.kind === 'new' || d.kind === 'existing') && p?.kind === 'send')
      out.set(claimId(p), { seq: d.seq, messageId: d.messageId });
  });
  return out;
}

/**
 * A sequenced event. Its id is derived from what it records (conversation, kind, seq), so a replay
 * after a crash re-emits it with the same id and consumers can drop the copy.
 */
function event(
  conversation: ConversationRow,
  at: Date,
  name: string,
  e: ConversationEvent['event'],
): ConversationEvent {
  return {
    eventId: nameUuid(`${conversation.conversationId}/${name}`),
    conversationId: conversation.conversationId,
    tenantId: conversation.tenantId,
    occurredAt: at.toISOString(),
    event: e,
  };
}
