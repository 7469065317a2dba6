import { Inject, Injectable } from '@nestjs/common';
import {
  BrokenCircuitError,
  bulkhead,
  circuitBreaker,
  ConsecutiveBreaker,
  DelegateBackoff,
  handleWhen,
  retry,
  wrap,
  type IPolicy,
} from 'cockatiel';
import type { Logger } from '@im/platform/logging';
import { CONFIG, LOGGER } from '@im/platform/nest';
import { meter } from '@im/platform/telemetry';
import type { NotificationConfig } from '../config.js';
import type { PushContent } from '../domain/push-content.js';
import type { Platform } from '../domain/push-targets.js';
import { ProviderError, type DeliveryOutcome, type PushProvider } from '../providers/push-provider.js';
import { WebPushProvider } from '../providers/web-push.provider.js';
import { DevicesTable, type DeviceRow } from '../storage/devices.table.js';

const CONCURRENCY_PER_PROVIDER = 32;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;

const retryable = (err: unknown) =>
  err instanceof BrokenCircuitError || (err instanceof ProviderError && err.retryable);

/** Exponential with full jitter, never sooner than the push service's Retry-After. */
const backoff = new DelegateBackoff<{ attempt: number; result: { error?: unknown } | { value: unknown } }>(
  (ctx) => {
    const exp = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(ctx.attempt, 10));
    const jittered = Math.random() * exp;
    const error = 'error' in ctx.result ? ctx.result.error : undefined;
    const asked = error instanceof ProviderError ? (error.retryAfterMs ?? 0) : 0;
    return Math.max(asked, jittered);
  },
);

/**
 * Sends to devices through their provider. Per provider: a bulkhead (bounded concurrency and
 * queue), a circuit breaker (5 failures in a row open it for 10 s), retries with backoff until
 * NOTIFICATION_RETRY_FOR_SECONDS: one provider's outage waits in its own lane and never blocks
 * the others. A target the push service calls gone is removed.
 */
@Injectable()
export class Delivery {
  private readonly providers = new Map<Platform, { provider: PushProvider; policy: IPolicy }>();
  private readonly sent = meter().createCounter('im_push_sent_total', {
    description: 'pushes handed to a push service, by platform and outcome',
  });

  constructor(
    @Inject(CONFIG) private readonly config: NotificationConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly devices: DevicesTable,
    webPush: WebPushProvider,
  ) {
    for (const provider of [webPush]) {
      const breaker = circuitBreaker(handleWhen(retryable), {
        halfOpenAfter: 10_000,
        breaker: new ConsecutiveBreaker(5),
      });
      breaker.onBreak(() =>
        logger.warn({ platform: provider.platform }, 'push provider failing: circuit open'),
      );
      breaker.onReset(() =>
        logger.info({ platform: provider.platform }, 'push provider back: circuit closed'),
      );
      const retries = retry(handleWhen(retryable), { maxAttempts: Number.MAX_SAFE_INTEGER, backoff });
      const lane = bulkhead(CONCURRENCY_PER_PROVIDER, config.NOTIFICATION_MAX_PENDING);
      this.providers.set(provider.platform, { provider, policy: wrap(lane, retries, breaker) });
    }
  }

  /** Resolves once the device got it, is gone (and removed), or the push was given up. */
  async send(
    device: DeviceRow,
    content: PushContent,
    collapseKey: string,
  ): Promise<DeliveryOutcome | 'dropped'> {
    const lane = this.providers.get(device.platform);
    if (!lane?.provider.enabled) {
      this.sent.add(1, { platform: device.platform, outcome: 'unconfigured' });
      return 'dropped';
    }
    const giveUpAt = Date.now() + this.config.NOTIFICATION_RETRY_FOR_SECONDS * 1_000;
    try {
      const outcome = await lane.policy.execute(() => {
        if (Date.now() > giveUpAt) throw new ProviderError('retried for too long', false);
        return lane.provider.send(device, content, collapseKey);
      });
      if (outcome === 'gone') {
        await this.devices.remove(device);
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
    }
  }
}
