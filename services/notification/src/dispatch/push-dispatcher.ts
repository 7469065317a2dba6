import { performance } from 'node:perf_hooks';
import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import {
  BACKGROUND_FETCH,
  BatchConsumer,
  type ConsumedBatch,
  decodeRecords,
  SKIP_BATCH,
} from '@im/platform/kafka';
import type { Logger } from '@im/platform/logging';
import { CONFIG, KAFKA, LOGGER, REGISTRY } from '@im/platform/nest';
import type { Registry } from '@im/platform/registry';
import { ConversationEvent } from '@im/proto/events/v1';
import type { NotificationConfig } from '../config.js';
import type { RulesPolicy } from '../domain/notification-rules.js';
import { PushedUptoTable } from '../storage/pushed-upto.table.js';
import { PushBatches } from './push-batches.js';
import { PushSender } from './push-sender.js';
import { Recipients } from './recipients.js';

const TICK_MS = 100;
const RETRY_BATCH_MS = 2_000;
/** A push about a message older than this is noise: the app shows it when it syncs. */
const MAX_EVENT_AGE_MS = 3_600_000;

/**
 * The new message an event carries, unless it is too old to be worth a push or deleted since (a
 * retried send re-emits its event with the message as it is now).
 */
export function pushableMessage(ev: ConversationEvent) {
  if (ev.event?.$case !== 'messageCreated' || !ev.event.value.message || ev.event.value.message.deleted)
    return undefined;
  const occurred = ev.occurredAt ? Date.parse(ev.occurredAt) : Date.now();
  return Date.now() - occurred > MAX_EVENT_AGE_MS ? undefined : ev.event.value.message;
}

/**
 * Consumes im.events.v1 in its own group and turns new messages into pushes, batched per (user,
 * conversation). Offsets are committed only below the oldest push not yet sent (the batches'
 * watermark), so a crash replays what was waiting; pushed_upto (the highest seq pushed per user
 * and conversation) keeps a replay from pushing a message twice.
 */
@Injectable()
export class PushDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer: BatchConsumer | undefined;
  private readonly batches: PushBatches;
  private readonly policy: RulesPolicy;
  private ticker: NodeJS.Timeout | undefined;

  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(REGISTRY) private readonly registry: Registry,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CONFIG) private readonly config: NotificationConfig,
    private readonly recipients: Recipients,
    private readonly sender: PushSender,
    private readonly pushedUpto: PushedUptoTable,
  ) {
    this.batches = new PushBatches(config.NOTIFICATION_BATCH_WINDOW_MS, config.NOTIFICATION_COOLDOWN_MS);
    this.policy = {
      pushWhenAway: config.NOTIFICATION_PUSH_WHEN_AWAY,
      busyAllowsMentions: config.NOTIFICATION_BUSY_ALLOWS_MENTIONS,
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = new BatchConsumer(this.kafka, {
      groupId: this.registry.groups.pushDispatcher,
      topics: [this.registry.topics.conversationEvents],
      logger: this.logger,
      fromBeginning: true,
      fetch: BACKGROUND_FETCH,
      // offsets are committed from the batches' watermark (tick), not after each batch
      commitDelayMs: 1,
      handle: (batch) => this.handle(batch),
      onAssignment: (assignment) => this.assigned(assignment),
    });
    await this.consumer.start();
    this.ticker = setInterval(() => this.tick(), TICK_MS);
  }

  async beforeApplicationShutdown(): Promise<void> {
    // a batch waiting for room is left to the next owner; the ticker sends until the consumer stopped
    await this.consumer?.stop();
    clearInterval(this.ticker);
  }

  private tick(): void {
    const consumer = this.consumer;
    if (!consumer) return;
    const due = this.batches.takeDue(performance.now());
    if (due.length > 0)
      void this.sender.sendAll(
        due,
        (entry) => this.batches.done(entry, performance.now()),
        (entry, err) => {
          this.logger.warn(
            { err: String(err), userId: entry.userId },
            'push batch failed: tried again shortly',
          );
          this.batches.retry(entry, performance.now() + RETRY_BATCH_MS);
        },
      );
    consumer.confirmStoreWrite(this.batches.oldest() ?? consumer.storeClock());
  }

  /** A rebalance: forget what may have changed while another member had the partitions. */
  private assigned(assignment: Readonly<Record<string, readonly number[]>>): void {
    const owned = new Set(assignment[this.registry.topics.conversationEvents] ?? []);
    const dropped = this.batches.keepPartitions(owned);
    this.recipients.forgetAll();
    this.pushedUpto.forget();
    if (dropped > 0) this.logger.info({ dropped }, 'waiting pushes of partitions handed away dropped');
  }

  private async handle(batch: ConsumedBatch): Promise<void | typeof SKIP_BATCH> {
    // bounded memory: a slow provider stops consumption instead of piling up pushes
    // (batches being sent are bounded per provider in Delivery: one provider's outage holds no other)
    while (this.batches.waitingCount >= this.config.NOTIFICATION_MAX_PENDING) {
      if (batch.isStopping()) return SKIP_BATCH;
      await new Promise((r) => setTimeout(r, 200));
      await batch.heartbeat();
    }
    const events = decodeRecords(
      batch,
      (v) => ConversationEvent.decode(v),
      this.logger,
      'conversation event',
    );
    await this.recipients.prefetch(
      events.flatMap((ev) => {
        const m = pushableMessage(ev);
        return m ? [{ tenantId: ev.tenantId, conversationId: ev.conversationId, senderId: m.senderId }] : [];
      }),
      (userId, conversationId) => this.batches.isWaiting(userId, conversationId),
    );
    for (const ev of events) {
      await this.apply(ev, batch.partition);
      await batch.heartbeat();
    }
  }

  private async apply(ev: ConversationEvent, partition: number): Promise<void> {
    const e = ev.event;
    if (e?.$case === 'membersChanged') this.recipients.forget(ev.conversationId);
    if (e?.$case === 'readMarked') {
      this.batches.seen(e.value.userId, ev.conversationId, Number(e.value.readSeq));
      this.batches.addBadge(
        performance.now(),
        { tenantId: ev.tenantId, userId: e.value.userId, conversationId: ev.conversationId, partition },
        Number(e.value.readSeq),
      );
      return;
    }
    const m = pushableMessage(ev);
    if (e?.$case !== 'messageCreated' || !m) return;
    // the sender is in the conversation right now: what waited for them there is seen
    this.batches.seen(m.senderId, ev.conversationId, Number(m.seq));
    const decisions = await this.recipients.decisions(
      ev.tenantId,
      ev.conversationId,
      {
        senderId: m.senderId,
        text: m.text,
        mentions: m.mentions,
        conversationType: e.value.conversationType,
      },
      this.policy,
      new Date(),
      (userId) => this.batches.isWaiting(userId, ev.conversationId),
    );
    if (decisions.length === 0) return;
    const at = performance.now();
    for (const { userId, decision } of decisions) {
      const opened = this.batches.addMessage(
        at,
        { tenantId: ev.tenantId, userId, conversationId: ev.conversationId, partition },
        {
          eventId: ev.eventId,
          seq: Number(m.seq),
          senderId: m.senderId,
          text: m.text,
          mentioned: decision.mentioned,
        },
      );
      if (opened) this.logger.debug({ userId, conversationId: ev.conversationId }, 'push waiting');
    }
  }
}
