import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import apn from '@parse/node-apn';
import type { Logger } from '@im/platform/logging';
import { CONFIG, LOGGER } from '@im/platform/nest';
import type { NotificationConfig } from '../config.js';
import type { PushContent } from '../domain/push-content.js';
import type { DeviceRow } from '../storage/devices.table.js';
import { ProviderError, type DeliveryOutcome, type PushProvider } from './push-provider.js';

/**
 * Only 410 Unregistered proves a token dead. BadDeviceToken and DeviceTokenNotForTopic also follow
 * from our own configuration (sandbox vs production, the topic): they drop the push and are
 * logged, but never delete every device of a platform.
 */
const GONE_REASONS = new Set(['Unregistered']);

/**
 * APNs over HTTP/2 with token (.p8) authentication, through `@parse/node-apn`. A message push is
 * an alert (title and body as previews allow, badge, thread and collapse id per conversation); a
 * badge update is a background push. 410 and dead tokens remove the device; 429 and 5xx retry.
 */
@Injectable()
export class ApnsProvider implements PushProvider, OnApplicationShutdown {
  readonly platform = 'apns' as const;
  private readonly provider: apn.Provider | undefined;

  constructor(
    @Inject(CONFIG) private readonly config: NotificationConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    const { APNS_KEY_FILE: keyFile, APNS_KEY_ID: keyId, APNS_TEAM_ID: teamId, APNS_TOPIC: topic } = config;
    if (!keyFile) {
      logger.info('APNs not configured (APNS_KEY_FILE): APNs pushes are skipped');
      return;
    }
    if (!keyId || !teamId || !topic)
      throw new Error('APNS_KEY_FILE needs APNS_KEY_ID, APNS_TEAM_ID and APNS_TOPIC');
    const [address, port] = config.APNS_ENDPOINT?.split(':') ?? [];
    this.provider = new apn.Provider({
      token: { key: readFileSync(keyFile), keyId, teamId },
      production: config.APNS_PRODUCTION,
      ...(address ? { address, port: Number(port ?? 443) } : {}),
      ...(config.APNS_CA_FILE ? { ca: [readFileSync(config.APNS_CA_FILE)] } : {}),
      requestTimeout: 10_000,
    });
  }

  get enabled(): boolean {
    return this.provider !== undefined;
  }

  async send(device: DeviceRow, content: PushContent, collapseKey: string): Promise<DeliveryOutcome> {
    const note = new apn.Notification();
    note.topic = this.config.APNS_TOPIC!;
    note.expiry = Math.floor(Date.now() / 1000) + this.config.NOTIFICATION_TTL_SECONDS;
    note.collapseId = createHash('sha256').update(collapseKey).digest('base64url').slice(0, 64);
    note.threadId = content.conversationId;
    note.badge = content.badge;
    note.payload = {
      kind: content.kind,
      conversationId: content.conversationId,
      seq: content.seq,
      count: content.count,
    };
    if (content.kind === 'badge') {
      note.pushType = 'background';
      note.contentAvailable = true;
      note.priority = 5;
    } else {
      note.pushType = 'alert';
      note.priority = 10;
      note.alert = content.title
        ? { title: content.title, body: content.body ?? '' }
        : { body: 'New message' };
      note.mutableContent = true;
    }
    const result = await this.provider!.send(note, device.token);
    const failure = result.failed[0];
    if (!failure) return 'delivered';
    const reason = failure.response?.reason ?? failure.error?.message ?? 'unknown';
    if (failure.status === 410 || GONE_REASONS.has(reason)) return 'gone';
    const status = failure.status;
    const retryable = status === undefined || status === 429 || status >= 500;
    throw new ProviderError(`APNs answered ${status ?? 'no response'}: ${reason}`, retryable, status);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.provider?.shutdown();
  }
}
