import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { GroupedWrites, type CassandraClient, type Statement } from '@im/platform/cassandra';
import { nameUuid } from '@im/platform/ids';
import { BatchConsumer, type ConsumedBatch, SKIP_BATCH } from '@im/platform/kafka';
import type { Logger } from '@im/platform/logging';
import type { NatsConnection } from '@im/platform/nats';
import { CASSANDRA, CONFIG, KAFKA, LOGGER, NATS, Readiness, REGISTRY } from '@im/platform/nest';
import type { Registry } from '@im/platform/registry';
import { meter } from '@im/platform/telemetry';
import type { Message } from '@im/proto/client/v1';
import { CommandResult, ConversationCommand, type ConversationEvent } from '@im/proto/events/v1';
import type { MessageConfig } from '../config.js';
import { MembershipCache } from '../conversations/membership-cache.js';
import { UserSettingsCache } from '../conversations/user-settings-cache.js';
import { copiesActivity } from '../domain/membership-activity.js';
import type { MessageState } from '../domain/message-updates.js';
import { rootSeqsOf } from '../domain/threads.js';
import type { Roster } from '../domain/membership-changes.js';
import { claimId, SequencingState, type Claim, type ClaimKey } from '../domain/sequencing.js';
import { ConversationEvents } from '../producers/conversation-events.js';
import { LivePublisher } from '../producers/live-publisher.js';
import { ConversationsTable, type ConversationRow } from '../storage/conversations.table.js';
import { MembersTable } from '../storage/members.table.js';
import { MessageClaimsTable } from '../storage/message-claims.table.js';
import { StoreProbesTable } from '../storage/store-probes.table.js';
import { MessagesTable } from '../storage/messages.table.js';
import { PinsTable } from '../storage/pins.table.js';
import { ReactionsTable } from '../storage/reactions.table.js';
import { CommandHandlers } from './command-handlers.js';
import type { BatchItem, ConversationBatch, Needs, Outbox } from './command-handler.js';
import { SequencerState } from './sequencer-state.js';

const CONVERSATIONS_IN_PARALLEL = 64;
/** Fine enough to tell a stage of a few milliseconds from one of tens (the default buckets start at 5 ms). */
const LATENCY_BUCKETS_MS = [
  0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 250, 500, 1_000, 2_500, 5_000, 10_000,
];
/** The stages of im_message_sequencer_stage_ms. */
const STAGE = {
  /**
   * a command, from the replica that took it (issuedAt, that host's clock) to the sequencer's
   * batch: produce, log, fetch; a batch handled again (a replay) counts its commands again
   */
  waited: { stage: 'waited' },
  /** a conversation's reads: its row, claims, read markers, last_seq and versions, messages, pins, roster */
  read: { stage: 'read' },
  /** a conversation's claims, rows and read markers, written */
  store: { stage: 'store' },
  /** a conversation's last_seq, written */
  recoveryPoint: { stage: 'recovery_point' },
  /** a conversation's commands, from the first read to the answers */
  conversation: { stage: 'conversation' },
  /** a batch's sequenced events, produced */
  events: { stage: 'events' },
} as const;

/**
 * The single writer of each conversation: the im.messages.v1 consumer-group member that owns the
 * conversation's partition. Per batch it groups the commands by conversation and, per
 * conversation,
 *   1. reads what the commands need (claims, read markers; cached while it owns the partition),
 *   2. lets each command's handler decide, in partition order (domain/sequencing.ts),
 *   3. writes claims, rows and read markers, then last_seq (claims and rows before last_seq, so a
 *      replay after a crash recomputes the same seqs from the stored last_seq); the writes of all
 *      conversations in flight share requests (GroupedWrites), the order per conversation holds,
 *   4. lets each handler answer, publish live events and emit sequenced events,
 * then produces the events to im.events.v1, and only then lets the consumer commit the offsets.
 */
@Injectable()
export class Sequencer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer: BatchConsumer | undefined;
  /** Cassandra outages seen (hostDown) and replayed: a write waits until both are equal. */
  private outages = 0;
  private replayedOutages = 0;
  private replaying: Promise<void> | undefined;
  /** The writes of every conversation in flight share requests (group commit). */
  private readonly writes: GroupedWrites;
  private readonly sequenced = meter().createCounter('im_message_sequenced_total', {
    description: 'messages given a seq',
  });
  private readonly batchLatency = meter().createHistogram('im_message_sequencer_batch_ms', {
    description: 'time to sequence one batch',
    advice: { explicitBucketBoundaries: LATENCY_BUCKETS_MS },
  });
  private readonly stageLatency = meter().createHistogram('im_message_sequencer_stage_ms', {
    description:
      'time in each stage of sequencing: waited (a command, from the replica that took it to the sequencer), read, store, recovery_point (last_seq), conversation (read to answers), events',
    advice: { explicitBucketBoundaries: LATENCY_BUCKETS_MS },
  });

  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(REGISTRY) private readonly registry: Registry,
    @Inject(CONFIG) private readonly config: MessageConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(NATS) private readonly nats: NatsConnection,
    @Inject(CASSANDRA) private readonly db: CassandraClient,
    private readonly handlers: CommandHandlers,
    private readonly state: SequencerState,
    private readonly conversations: ConversationsTable,
    private readonly claims: MessageClaimsTable,
    private readonly probes: StoreProbesTable,
    private readonly members: MembersTable,
    private readonly messages: MessagesTable,
    private readonly reactions: ReactionsTable,
    private readonly pins: PinsTable,
    private readonly membership: MembershipCache,
    private readonly settings: UserSettingsCache,
    private readonly live: LivePublisher,
    private readonly events: ConversationEvents,
    readiness: Readiness,
  ) {
    this.writes = new GroupedWrites(db, {
      maxStatements: config.SEQUENCER_WRITE_BATCH_STATEMENTS,
      maxBytes: 40_000,
    });
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
      onAssignment: () => {
        this.state.clear();
        this.membership.forgetMemberLists();
      },
      handle: (batch) => this.handle(batch),
      commitDelayMs: this.config.SEQUENCER_COMMIT_DELAY_MS,
      // once the traffic stops, the last batches' offsets still get committed (a restart replays less)
      probeStore: () => this.probes.write(),
    });
    if (this.config.SEQUENCER_COMMIT_DELAY_MS > 0)
      this.db.on('hostDown', () => {
        this.outages++;
        this.consumer?.holdCommits();
        void this.replayOnce();
      });
    await this.consumer.start();
  }

  /**
   * A Cassandra node went down: it may come back without the writes of its last commit-log sync
   * window (a single node with periodic sync), and what this sequencer holds in memory may be
   * ahead of what is stored. Before writing anything more, everything sequenced since the last
   * committed offsets is sequenced again from Kafka with fresh state: the same commands on top of
   * the same surviving prefix give the same seqs, rows and event ids, so what was lost is written
   * again and no acknowledged seq is reused. Batches skip until then (SKIP_BATCH); a node that
   * goes down again meanwhile makes another replay follow. Started at once, not on the driver's
   * hostUp: after a restart the pool may reconnect and write before hostUp fires.
   */
  private replayOnce(): Promise<void> {
    this.replaying ??= (async () => {
      const outages = this.outages;
      try {
        this.logger.warn('Cassandra was down: replaying from the committed offsets before writing again');
        await this.consumer!.rewind();
        this.state.clear();
        this.replayedOutages = outages;
      } catch (err) {
        this.logger.error({ err }, 'rewinding after a Cassandra outage failed; the next batch retries');
      } finally {
        this.replaying = undefined;
      }
    })();
    return this.replaying;
  }

  private get replayNeeded(): boolean {
    return this.replayedOutages !== this.outages;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }

  private async handle(batch: ConsumedBatch): Promise<void | typeof SKIP_BATCH> {
    if (this.replayNeeded) {
      await this.replayOnce();
      return SKIP_BATCH;
    }
    const generation = this.state.generation;
    const t0 = performance.now();
    const fetchedAt = Date.now();
    const byConversation = new Map<string, BatchItem[]>();
    for (const record of batch.messages) {
      const item = this.decode(record);
      if (!item) continue;
      if (item.command.issuedAt)
        // two hosts' clocks: a skewed one must not make it negative (the SDK drops those)
        this.stageLatency.record(Math.max(0, fetchedAt - Date.parse(item.command.issuedAt)), STAGE.waited);
      let list = byConversation.get(item.command.conversationId);
      if (!list) byConversation.set(item.command.conversationId, (list = []));
      list.push(item);
    }
    const entries = [...byConversation];
    const events: ConversationEvent[] = [];
    for (let i = 0; i < entries.length; i += CONVERSATIONS_IN_PARALLEL) {
      const chunk = entries.slice(i, i + CONVERSATIONS_IN_PARALLEL);
      // every conversation settles before the batch fails: one left running would finish after
      // kafkajs handed the batch out again, and write behind the retry
      const settled = await Promise.allSettled(
        chunk.map(([id, items]) => this.sequenceConversation(generation, id, items)),
      );
      const failed = settled.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      for (const { value: r } of settled as PromiseFulfilledResult<ConversationEvent[] | undefined>[]) {
        if (!r) return SKIP_BATCH; // replayed from the committed offsets with fresh state
        events.push(...r);
      }
      // a large batch (a backlog after an outage) must not outlast the session: the group would
      // think this member dead, move its partitions and make it redo the batch
      await batch.heartbeat();
    }
    if (events.length > 0) {
      const publishedFrom = performance.now();
      await this.events.publish(events);
      this.stageLatency.record(performance.now() - publishedFrom, STAGE.events);
    }
    this.batchLatency.record(performance.now() - t0);
  }

  /** The command with its kind's handler; undecodable or unknown commands are answered and dropped. */
  private decode(record: KafkaMessage): BatchItem | undefined {
    let command: ConversationCommand;
    try {
      command = ConversationCommand.decode(record.value!);
    } catch (err) {
      this.logger.error({ err, offset: record.offset }, 'undecodable command skipped');
      return undefined;
    }
    const handler = command.command && this.handlers.for(command.command.$case);
    if (!command.command || !handler) {
      this.reply(command, {
        $case: 'error',
        value: { code: 'invalid_argument', message: 'unknown command kind' },
      });
      return undefined;
    }
    return {
      command,
      callerId: command.caller?.userId ?? '',
      body: command.command.value,
      handler,
    } as BatchItem;
  }

  /**
   * Sequences one conversation's commands of this batch; returns its events for im.events.v1, or
   * undefined when the state was cleared under it (a replay): then nothing is written.
   */
  private async sequenceConversation(
    generation: number,
    conversationId: string,
    items: readonly BatchItem[],
  ): Promise<ConversationEvent[] | undefined> {
    const startedAt = performance.now();
    const conversation = await this.state.conversation(conversationId);
    if (!conversation) {
      for (const { command } of items)
        this.reply(command, {
          $case: 'error',
          value: { code: 'not_found', message: 'no such conversation' },
        });
      return [];
    }

    // 1. read what the commands need, 2. decide in partition order
    const needs = items.map((i) => i.handler.needs(i as never));
    // A command about a seq that an earlier command of this batch creates (a replay after
    // Cassandra lost its last writes brings a message and a reply to it in one batch): the
    // commands before it are stored first, so it is decided as it was the first time, whatever
    // the batch boundaries.
    const lastSeq = await this.state.lastSeq(conversationId);
    const ahead = firstAboutAnEarlierSend(needs, lastSeq);
    if (ahead > 0) {
      const before = await this.sequenceConversation(generation, conversationId, items.slice(0, ahead));
      if (!before) return undefined;
      const after = await this.sequenceConversation(generation, conversationId, items.slice(ahead));
      return after && [...before, ...after];
    }
    const [claims, readSeqs, lastVersion] = await Promise.all([
      this.lookupClaims(
        conversationId,
        needs.flatMap((n) => (n.claim ? [n.claim] : [])),
      ),
      this.lookupReadSeqs(
        conversationId,
        needs.flatMap((n) => n.readers),
      ),
      this.state.lastVersion(conversationId),
    ]);
    const [messages, pinned, roster] = await Promise.all([
      this.lookupMessages(
        conversationId,
        needs.flatMap((n) => (n.message !== undefined && n.message <= lastSeq ? [n.message] : [])),
      ),
      needs.some((n) => n.pins) ? this.pins.count(conversationId) : 0,
      this.lookupRoster(
        conversation,
        needs.flatMap((n) => [...(n.roster ?? []), ...(n.roles ?? [])]),
        needs.some((n) => n.roster),
      ),
    ]);
    this.stageLatency.record(performance.now() - startedAt, STAGE.read);
    const sequencing = new SequencingState(
      lastSeq,
      claims,
      readSeqs,
      lastVersion,
      messages,
      { pinned },
      roster,
    );
    const decisions = items.map((i, index) => i.handler.decide(sequencing, i as never, index));
    const batch: ConversationBatch = {
      conversation,
      items,
      decisions,
      lastSeq: sequencing.lastSeq,
      now: new Date(),
      statements: [],
      writes: [],
      stored: new Array<Message | undefined>(items.length),
      claims: new Map(),
      messages,
      memberIds: [],
      receiptsSharing: new Map(),
    };

    // 3. store: the handlers' writes, the moved read markers and the members' copies of the
    // conversation's activity (ADR 0032), then last_seq (the recovery point)
    if (generation !== this.state.generation) return undefined;
    const writesStartedAt = this.consumer!.storeClock();
    items.forEach((i, index) => {
      if (decisions[index]!.kind !== 'refused') i.handler.store(batch, index);
    });
    for (const [userId, seq] of sequencing.readSeqsMoved)
      batch.statements.push(this.members.readSeqStatement(userId, conversationId, seq));
    const lastChanged = decisions.findLast((d) => d.kind === 'updated' && d.seq === sequencing.lastSeq);
    if (lastChanged?.kind === 'updated')
      batch.statements.push(
        this.conversations.lastMessageChangeStatement(
          conversationId,
          lastChanged.message,
          lastChanged.version,
        ),
      );
    // the members' copies of the activity go before last_seq, like the rows, so a replay from a
    // stored last_seq never has to write them: with the rows when the batch's newest message is a
    // new one (known now), in a write of their own when it is a replayed one (known once read back)
    const newestNew = newestStored(batch, lastSeq);
    if (newestNew)
      batch.statements.push(...(await this.activityCopies(conversation, sequencing.lastSeq, newestNew)));
    const storedFrom = performance.now();
    const [, ...wrote] = await Promise.all([this.writes.write(batch.statements), ...batch.writes]);
    if (batch.statements.length + batch.writes.length > 0)
      this.stageLatency.record(performance.now() - storedFrom, STAGE.store);
    const newest = newestStored(batch, lastSeq);
    if (newest && !newestNew)
      await this.writes.write(await this.activityCopies(conversation, sequencing.lastSeq, newest));
    const recoveryPoint = [
      ...(sequencing.lastSeq > lastSeq || newest
        ? [this.conversations.lastStatement(conversationId, sequencing.lastSeq, newest)]
        : []),
      ...(sequencing.lastVersion > lastVersion
        ? [this.conversations.lastVersionStatement(conversationId, sequencing.lastVersion)]
        : []),
    ];
    // a replay began (or became due) while the rows were queued or stored: it recomputes last_seq
    // from what is stored
    if (generation !== this.state.generation || this.replayNeeded) return undefined;
    const recoveryPointFrom = performance.now();
    await this.writes.write(recoveryPoint);
    if (recoveryPoint.length > 0)
      this.stageLatency.record(performance.now() - recoveryPointFrom, STAGE.recoveryPoint);
    // neither time nor a read confirms the store (ADR 0006): only a write that went out
    if (batch.statements.length + recoveryPoint.length > 0 || wrote.includes(true))
      this.consumer!.confirmStoreWrite(writesStartedAt);
    // and once more: an outage noticed while last_seq was stored replays this batch, and the
    // replay answers its commands (with the same seqs: the claims were stored before last_seq)
    if (generation !== this.state.generation || this.replayNeeded) return undefined;
    this.state.advance(
      generation,
      conversationId,
      sequencing.lastSeq,
      sequencing.readSeqsMoved,
      batch.claims,
    );
    const changed = new Map<number, MessageState>();
    for (const d of decisions) {
      const update =
        d.kind === 'updated' ? d : d.kind === 'new' || d.kind === 'existing' ? d.thread : undefined;
      if (update) changed.set(update.seq, messages.get(update.seq)!);
    }
    this.state.advanceUpdates(generation, conversationId, sequencing.lastVersion, changed);
    /** Who is a member after the batch, of those it changed (a later decision wins). */
    const isMember = new Map<string, boolean>();
    for (const d of decisions)
      if (d.kind === 'membersChanged') {
        this.state.membersChanged(
          generation,
          conversationId,
          d.added,
          d.removed,
          d.readSeq ?? sequencing.lastSeq,
        );
        for (const u of d.added) isMember.set(u, true);
        for (const u of d.removed) isMember.set(u, false);
      }
    if (decisions.some((d) => d.kind === 'membersChanged'))
      this.membership.announceChange(conversationId, {
        added: [...isMember].filter(([, m]) => m).map(([u]) => u),
        removed: [...isMember].filter(([, m]) => !m).map(([u]) => u),
      });
    // here, not only by the replica that waits for the answer: one that timed out would leave every
    // replica deciding writes on the settings before (an archive letting sends in for 30 s)
    else if (decisions.some((d) => d.kind === 'conversationChanged'))
      this.membership.announceChange(conversationId);

    // 4. answer, fan out, emit
    batch.memberIds = (await this.membership.membersOf(conversationId)).map((m) => m.userId);
    if (needs.some((n) => n.receipts) && batch.memberIds.length <= this.config.READ_RECEIPTS_MAX_MEMBERS)
      batch.receiptsSharing = await this.settings.sharing(batch.memberIds);
    const events: ConversationEvent[] = [];
    const out = this.outbox(conversation, events);
    items.forEach((i, index) => {
      const d = decisions[index]!;
      if (d.kind === 'refused')
        out.reply(i.command, { $case: 'error', value: { code: d.code, message: d.message } });
      else i.handler.publish(batch, index, out);
    });
    this.sequenced.add(decisions.filter((d) => d.kind === 'new').length);
    this.stageLatency.record(performance.now() - startedAt, STAGE.conversation);
    return events;
  }

  /**
   * The conversation's new activity, copied into each member's row (ADR 0032) before last_seq: a
   * copy written without it (a crash between the two) only makes a reader look at the row, and
   * the replay writes both. Not for channels.
   */
  private async activityCopies(
    conversation: ConversationRow,
    lastSeq: number,
    newest: Message,
  ): Promise<Statement[]> {
    if (!copiesActivity(conversation.type)) return [];
    const id = conversation.conversationId;
    const at = new Date(newest.createdAt!);
    return (await this.membership.membersOf(id)).map((m) =>
      this.members.activityStatement(m.userId, id, lastSeq, at),
    );
  }

  private outbox(conversation: ConversationRow, events: ConversationEvent[]): Outbox {
    return {
      reply: (command, result) => this.reply(command, result),
      live: (userIds, event) => this.live.publish(userIds, event),
      liveToMembers: (memberIds, event) => this.live.publishToMembers(conversation, memberIds, event),
      liveViewsToMembers: (memberIds, views) =>
        this.live.publishViewsToMembers(conversation, memberIds, views),
      event: (name, at, event) => events.push(sequencedEvent(conversation, name, at, event)),
    };
  }

  private async lookupClaims(conversationId: string, keys: readonly ClaimKey[]): Promise<Map<string, Claim>> {
    const unique = new Map(keys.map((k) => [claimId(k), k]));
    const out = new Map<string, Claim>();
    await Promise.all(
      [...unique].map(async ([id, key]) => {
        const claim =
          this.state.recentClaim(conversationId, id) ?? (await this.claims.get(conversationId, key));
        if (claim) out.set(id, claim);
      }),
    );
    return out;
  }

  /**
   * The messages the batch updates, with their reactions (recently updated ones from memory), and
   * the roots of those that are replies (what their updates show of the root).
   */
  private async lookupMessages(
    conversationId: string,
    seqs: readonly number[],
  ): Promise<Map<number, MessageState>> {
    const out = new Map<number, MessageState>();
    await this.loadMessages(conversationId, seqs, out);
    const roots = rootSeqsOf([...out.values()].map((s) => s.message)).filter((seq) => !out.has(seq));
    if (roots.length > 0) await this.loadMessages(conversationId, roots, out);
    return out;
  }

  private async loadMessages(
    conversationId: string,
    seqs: readonly number[],
    out: Map<number, MessageState>,
  ): Promise<void> {
    await Promise.all(
      [...new Set(seqs)].map(async (seq) => {
        const known = this.state.recentMessage(conversationId, seq);
        if (known) return void out.set(seq, known);
        const [message, reactors] = await Promise.all([
          this.messages.get(conversationId, seq),
          this.reactions.reactorsOf(conversationId, seq),
        ]);
        if (message) out.set(seq, { message, reactors });
      }),
    );
  }

  /**
   * The roles and mutes of the users the commands touch (fresh), and, for membership changes, the
   * member count (a COUNT over the conversation's members: not read for a role check alone).
   */
  private async lookupRoster(
    conversation: ConversationRow,
    users: readonly string[],
    withCount: boolean,
  ): Promise<Roster> {
    const roster: Roster = { type: conversation.type, members: new Map(), count: 0 };
    if (users.length === 0) return roster;
    const id = conversation.conversationId;
    const [rows, count] = await Promise.all([
      Promise.all(
        [...new Set(users)].map(async (u) => [u, await this.members.membershipOrMute(u, id)] as const),
      ),
      withCount ? this.members.count(id) : 0,
    ]);
    for (const [u, { membership: m, mutedOnRecord }] of rows)
      if (m) roster.members.set(u, { role: m.role, muted: m.muted });
      else if (mutedOnRecord) (roster.mutedOnRecord ??= new Set()).add(u);
    roster.count = count;
    return roster;
  }

  private async lookupReadSeqs(
    conversationId: string,
    users: readonly string[],
  ): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    await Promise.all(
      [...new Set(users)].map(async (u) => {
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
 * The first command (not the first of the slice) about a seq above the stored last seq that the
 * sends before it may create; -1 when none. A command about a seq no earlier send can create is
 * refused as it is, without a split.
 */
function firstAboutAnEarlierSend(needs: readonly Needs[], storedUpTo: number): number {
  let sends = 0;
  return needs.findIndex((n, i) => {
    const creatable = storedUpTo + sends;
    if (n.claim) sends++;
    return i > 0 && n.message !== undefined && n.message > storedUpTo && n.message <= creatable;
  });
}

/**
 * The newest message this batch stored, for the conversation list. Existing ones count only above
 * the previous last_seq (a replay); a client retrying an old message must not make it "last".
 */
function newestStored(batch: ConversationBatch, previousLastSeq: number): Message | undefined {
  let best: Message | undefined;
  batch.decisions.forEach((d, i) => {
    const counts = d.kind === 'new' || (d.kind === 'existing' && d.seq > previousLastSeq);
    const msg = batch.stored[i];
    if (counts && msg && (!best || msg.seq > best.seq)) best = msg;
  });
  return best;
}

/**
 * A sequenced event. Its id is derived from what it records (conversation, kind, seq), so a replay
 * after a crash re-emits it with the same id and consumers can drop the copy.
 */
function sequencedEvent(
  conversation: ConversationRow,
  name: string,
  at: Date,
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
