import { performance } from 'node:perf_hooks';
import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { DelegateBackoff, handleWhen, retry } from 'cockatiel';
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
import { meter } from '@im/platform/telemetry';
import { ConversationEvent } from '@im/proto/events/v1';
import type { NotificationConfig } from '../config.js';
import { signatureHeader, webhookEventsOf, type WebhookEvent } from '../domain/webhook-events.js';
import { guardedLookup } from '../providers/guarded-lookup.js';
import { guardedPost } from '../providers/guarded-post.js';
import { ProviderError, retryAfterMs } from '../providers/push-provider.js';
import { WebhooksTable, type WebhookRow } from '../storage/webhooks.table.js';
import { WebhooksService } from './webhooks.service.js';

const TICK_MS = 200;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 60_000;
const MAX_PENDING = 10_000;
const MAX_PENDING_PER_WEBHOOK = 1_000;
/** Deliveries remembered so a replayed event is not queued again (a retried batch, a rebalance). */
const MAX_RECENT = 100_000;

/**
 * Delivers the tenant's events to its webhooks, from its own consumer group on im.events.v1.
 * One chain per (webhook, conversation): a conversation's events reach a receiver in order, and a
 * slow or failing receiver holds only its own chains. Each delivery is retried with backoff
 * (Retry-After honoured) for WEBHOOK_RETRY_FOR_SECONDS, then dead-lettered where the tenant's
 * admins can see it. Offsets are committed below the oldest delivery not yet finished.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer: BatchConsumer | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private readonly chains = new Map<string, Promise<void>>();
  private readonly pending = new Map<number, number>();
  private readonly perWebhook = new Map<string, number>();
  private nextId = 0;
  /** `webhookId|eventId` of the deliveries queued here lately, oldest first. */
  private readonly recent = new Set<string>();
  private readonly lookup: ReturnType<typeof guardedLookup>;
  private readonly delivered = meter().createCounter('im_webhook_deliveries_total', {
    description: 'webhook deliveries by outcome (delivered, dead_lettered)',
  });

  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(REGISTRY) private readonly registry: Registry,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CONFIG) private readonly config: NotificationConfig,
    private readonly webhooks: WebhooksService,
    private readonly table: WebhooksTable,
  ) {
    this.lookup = guardedLookup(config.WEBHOOK_ALLOW_HTTP_LOOPBACK);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = new BatchConsumer(this.kafka, {
      groupId: this.registry.groups.webhookDispatcher,
      topics: [this.registry.topics.conversationEvents],
      logger: this.logger,
      // a new webhook receives what happens from now on, not the retained history
      fromBeginning: false,
      fetch: BACKGROUND_FETCH,
      commitDelayMs: 1,
      handle: (batch) => this.handle(batch),
    });
    await this.consumer.start();
    this.ticker = setInterval(() => {
      const oldest = Math.min(...this.pending.values());
      this.consumer?.confirmStoreWrite(Number.isFinite(oldest) ? oldest : this.consumer.storeClock());
    }, TICK_MS);
  }

  async beforeApplicationShutdown(): Promise<void> {
    // a batch waiting for room is left to the next owner; the ticker confirms until the consumer stopped
    await this.consumer?.stop();
    clearInterval(this.ticker);
  }

  private async handle(batch: ConsumedBatch): Promise<void | typeof SKIP_BATCH> {
    while (this.pending.size >= MAX_PENDING) {
      if (batch.isStopping()) return SKIP_BATCH;
      await new Promise((r) => setTimeout(r, 200));
      await batch.heartbeat();
    }
    const hooksOf = new Map<string, WebhookRow[]>();
    for (const ev of decodeRecords(
      batch,
      (v) => ConversationEvent.decode(v),
      this.logger,
      'event (webhooks)',
    )) {
      const events = webhookEventsOf(ev);
      if (events.length === 0) continue;
      // one read per tenant and batch, not per event (it was a Cassandra read per message sent)
      let hooks = hooksOf.get(ev.tenantId);
      if (!hooks) hooksOf.set(ev.tenantId, (hooks = await this.webhooks.ofTenant(ev.tenantId)));
      for (const event of events)
        for (const hook of hooks)
          if (hook.events.includes(event.type)) this.enqueue(hook, event, batch.partition);
    }
  }

  private enqueue(hook: WebhookRow, event: WebhookEvent, partition: number): void {
    // queued here already: a batch handled again (a retry, a replay after a rebalance)
    const delivery = `${hook.webhookId}|${event.id}`;
    if (this.recent.has(delivery)) return;
    this.recent.add(delivery);
    if (this.recent.size > MAX_RECENT) this.recent.delete(this.recent.values().next().value!);
    // one receiver down must not hold every tenant: past its share, its deliveries go straight
    // to its dead letters (where its admins see them)
    const held = this.perWebhook.get(hook.webhookId) ?? 0;
    if (held >= MAX_PENDING_PER_WEBHOOK) {
      void this.deadLetter(hook, event, 0, 'queue full: the receiver is too far behind');
      return;
    }
    this.perWebhook.set(hook.webhookId, held + 1);
    const key = `${hook.webhookId}|${event.conversationId}`;
    const id = ++this.nextId;
    this.pending.set(id, performance.now());
    const next = (this.chains.get(key) ?? Promise.resolve())
      .then(() => this.deliver(hook, event, () => this.owns(partition)))
      .then((handedOver) => {
        // its partition's new owner delivers it (in order); were it to come back here, so do we
        if (handedOver) this.recent.delete(delivery);
      })
      .catch((err: unknown) =>
        this.logger.error({ err, webhookId: hook.webhookId }, 'webhook delivery failed'),
      )
      .finally(() => {
        this.pending.delete(id);
        const left = (this.perWebhook.get(hook.webhookId) ?? 1) - 1;
        if (left > 0) this.perWebhook.set(hook.webhookId, left);
        else this.perWebhook.delete(hook.webhookId);
        if (this.chains.get(key) === next) this.chains.delete(key);
      });
    this.chains.set(key, next);
  }

  private async deadLetter(hook: WebhookRow, event: WebhookEvent, attempts: number, lastError: string) {
    await this.table
      .deadLetter(hook.webhookId, {
        eventId: event.id,
        eventType: event.type,
        conversationId: event.conversationId,
        attempts,
        lastError,
      })
      .catch((err: unknown) =>
        this.logger.error({ err, webhookId: hook.webhookId }, 'dead letter not written'),
      );
    this.delivered.add(1, { outcome: 'dead_lettered' });
  }

  /** Whether this member still owns the partition, as of the last rebalance it took part in. */
  private owns(partition: number): boolean {
    return this.consumer?.assignment[this.registry.topics.conversationEvents]?.includes(partition) ?? false;
  }

  /**
   * Delivers with retries, or dead-letters once the retry budget is spent. Returns true when it
   * stopped because this member no longer owns the event's partition (`owned` is asked before
   * every attempt): the new owner replays it from the committed offsets, in order with the
   * conversation's later events, which a delivery still retrying here would overtake.
   */
  private async deliver(hook: WebhookRow, event: WebhookEvent, owned: () => boolean): Promise<boolean> {
    const body = JSON.stringify(event);
    const giveUpAt = Date.now() + this.config.WEBHOOK_RETRY_FOR_SECONDS * 1_000;
    let attempts = 0;
    let lastError = '';
    const backoff = new DelegateBackoff<{
      attempt: number;
      result: { error?: unknown } | { value: unknown };
    }>((ctx) => {
      const exp = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(ctx.attempt, 12));
      const error = 'error' in ctx.result ? ctx.result.error : undefined;
      const asked = error instanceof ProviderError ? (error.retryAfterMs ?? 0) : 0;
      const wait = Math.min(Math.max(asked, Math.random() * exp), BACKOFF_MAX_MS);
      return Math.max(0, Math.min(wait, giveUpAt - Date.now()));
    });
    const policy = retry(
      handleWhen((err) => !(err instanceof GaveUp) && !(err instanceof HandedOver)),
      { maxAttempts: Number.MAX_SAFE_INTEGER, backoff },
    );
    try {
      await policy.execute(async () => {
        if (!owned()) throw new HandedOver();
        if (attempts > 0 && Date.now() >= giveUpAt) throw new GaveUp(lastError);
        attempts++;
        const res = await guardedPost(
          hook.url,
          {
            'content-type': 'application/json',
            'user-agent': 'im-webhooks/1',
            'x-im-event-id': event.id,
            'x-im-event-type': event.type,
            'x-im-signature': signatureHeader(hook.secret, body, Math.floor(Date.now() / 1000)),
          },
          body,
          this.lookup,
          this.config.WEBHOOK_TIMEOUT_MS,
        ).catch((err: unknown) => {
          lastError = err instanceof Error ? err.message : String(err);
          throw err;
        });
        if (res.status >= 200 && res.status < 300) return;
        lastError = `HTTP ${res.status}`;
        throw new ProviderError(lastError, true, res.status, retryAfterMs(res.headers['retry-after']));
      });
      this.delivered.add(1, { outcome: 'delivered' });
    } catch (err) {
      if (err instanceof HandedOver) return true;
      if (!(err instanceof GaveUp)) throw err;
      await this.deadLetter(hook, event, attempts, lastError);
      this.logger.warn(
        { webhookId: hook.webhookId, eventId: event.id, attempts, lastError },
        'webhook delivery dead-lettered',
      );
    }
    return false;
  }
}

/** The retry budget is spent: the delivery goes to the dead letters. */
class GaveUp extends Error {}

/** The event's partition went to another member, which delivers it. */
class HandedOver extends Error {}
