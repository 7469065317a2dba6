import { Inject, Injectable } from '@nestjs/common';
import {
  BrokenCircuitError,
  bulkhead,
  BulkheadRejectedError,
  circuitBreaker,
  ConsecutiveBreaker,
  DelegateBackoff,
  handleWhen,
  retry,
  type BulkheadPolicy,
  type CircuitBreakerPolicy,
  type RetryPolicy,
} from 'cockatiel';
import type { Logger } from '@im/platform/logging';
import { CONFIG, LOGGER } from '@im/platform/nest';
import { meter } from '@im/platform/telemetry';
import type { NotificationConfig } from '../config.js';
import type { PushContent } from '../domain/push-content.js';
import type { Platform } from '../domain/push-targets.js';
import { ApnsProvider } from '../providers/apns.provider.js';
import { FcmProvider } from '../providers/fcm.provider.js';
import { ProviderError, type DeliveryOutcome, type PushProvider } from '../providers/push-provider.js';
import { WebPushProvider } from '../providers/web-push.provider.js';
import { DevicesTable, type DeviceRow } from '../storage/devices.table.js';

const CONCURRENCY_PER_PROVIDER = 32;
const QUEUE_PER_PROVIDER = 10_000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;
const BREAKERS_MAX = 10_000;

const retryable = (err: unknown) =>
  err instanceof BrokenCircuitError ||
  err instanceof BulkheadRejectedError ||
  (err instanceof ProviderError && err.retryable);

/** Pushes one provider may hold at once (sending, queued or waiting to retry); beyond: dropped. */
const HELD_PER_PROVIDER = 20_000;

/** Given up: the retry budget is spent (never counted by a breaker). */
class GaveUp extends Error {}

interface Lane {
  provider: PushProvider;
  /** Bounded concurrency per provider; retries wait outside it, holding no slot. */
  slots: BulkheadPolicy;
  retries: RetryPolicy;
}

/**
 * Sends to devices through their provider. Per provider: a bulkhead (32 in flight, a bounded
 * queue) and retries with exponential backoff and full jitter, never sooner than Retry-After and
 * never past NOTIFICATION_RETRY_FOR_SECONDS. Circuit breakers are per push service: one per APNs
 * and FCM, one per Web Push origin (endpoints are anyone's servers: one failing must not open the
 * circuit for the others). A target the push service calls gone is removed.
 */
@Injectable()
export class Delivery {
  private readonly lanes = new Map<Platform, Lane>();
  private readonly breakers = new Map<string, CircuitBreakerPolicy>();
  private readonly held = new Map<Platform, number>();
  private readonly sent = meter().createCounter('im_push_sent_total', {
    description: 'pushes handed to a push service, by platform and outcome',
  });

  constructor(
    @Inject(CONFIG) private readonly config: NotificationConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly devices: DevicesTable,
    webPush: WebPushProvider,
    apns: ApnsProvider,
    fcm: FcmProvider,
  ) {
    for (const provider of [webPush, apns, fcm]) {
      const backoff = new DelegateBackoff<{
        attempt: number;
        result: { error?: unknown } | { value: unknown };
      }>((ctx) => {
        const exp = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(ctx.attempt, 10));
        const error = 'error' in ctx.result ? ctx.result.error : undefined;
        const asked = error instanceof ProviderError ? (error.retryAfterMs ?? 0) : 0;
        return Math.min(Math.max(asked, Math.random() * exp), BACKOFF_MAX_MS * 2);
      });
      this.lanes.set(provider.platform, {
        provider,
        slots: bulkhead(CONCURRENCY_PER_PROVIDER, QUEUE_PER_PROVIDER),
        retries: retry(handleWhen(retryable), { maxAttempts: Number.MAX_SAFE_INTEGER, backoff }),
      });
    }
  }

  /** Resolves once the device got it, is gone (and removed), or the push was given up. */
  async send(
    device: DeviceRow,
    content: PushContent,
    collapseKey: string,
  ): Promise<DeliveryOutcome | 'dropped'> {
    const lane = this.lanes.get(device.platform);
    if (!lane?.provider.enabled) {
      this.sent.add(1, { platform: device.platform, outcome: 'unconfigured' });
      return 'dropped';
    }
    // a bounded queue per provider: one provider's outage never grows memory, nor holds the others
    const held = this.held.get(device.platform) ?? 0;
    if (held >= HELD_PER_PROVIDER) {
      this.sent.add(1, { platform: device.platform, outcome: 'overflow' });
      this.logger.warn({ platform: device.platform, held }, 'push dropped: the provider’s queue is full');
      return 'dropped';
    }
    this.held.set(device.platform, held + 1);
    const giveUpAt = Date.now() + this.config.NOTIFICATION_RETRY_FOR_SECONDS * 1_000;
    const breaker = this.breakerFor(device);
    try {
      const outcome = await lane.retries.execute(() => {
        if (Date.now() > giveUpAt) throw new GaveUp('retried for too long');
        return lane.slots.execute(() =>
          breaker.execute(() => lane.provider.send(device, content, collapseKey)),
        );
      });
      if (outcome === 'gone') {
        await this.devices.removeIfSame(device);
        this.logger.info(
          { deviceId: device.deviceId, platform: device.platform },
          'push target gone: device removed',
        );
      }
      this.sent.add(1, { platform: device.platform, outcome });
      return outcome;
    } catch (err) {
      this.sent.add(1, { platform: device.platform, outcome: 'dropped' });
      this.logger.warn(
        { err: String(err), deviceId: device.deviceId, platform: device.platform },
        'push dropped',
      );
      return 'dropped';
    } finally {
      this.held.set(device.platform, (this.held.get(device.platform) ?? 1) - 1);
    }
  }

  private breakerFor(device: DeviceRow): CircuitBreakerPolicy {
    const key =
      device.platform === 'webpush' && device.subscription
        ? `webpush|${new URL(device.subscription.endpoint).origin}`
        : device.platform;
    let breaker = this.breakers.get(key);
    if (!breaker) {
      if (this.breakers.size >= BREAKERS_MAX) this.breakers.clear();
      breaker = circuitBreaker(handleWhen(retryable), {
        halfOpenAfter: 10_000,
        breaker: new ConsecutiveBreaker(5),
      });
      breaker.onBreak(() => this.logger.warn({ pushService: key }, 'push service failing: circuit open'));
      breaker.onReset(() => this.logger.info({ pushService: key }, 'push service back: circuit closed'));
      this.breakers.set(key, breaker);
    }
    return breaker;
  }
}
