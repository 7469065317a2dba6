import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import webpush from 'web-push';
import { CONFIG } from '@im/platform/nest';
import type { NotificationConfig } from '../config.js';
import type { PushContent } from '../domain/push-content.js';
import type { DeviceRow } from '../storage/devices.table.js';
import { guardedLookup } from './guarded-lookup.js';
import { guardedPost } from './guarded-post.js';
import { ProviderError, retryAfterMs, type DeliveryOutcome, type PushProvider } from './push-provider.js';
import { VapidKeys } from './vapid-keys.js';

const TIMEOUT_MS = 10_000;
/** A VAPID JWT is valid 12 h (at most 24 h by RFC 8292) and signed again after 1 h. */
const VAPID_TTL_SECONDS = 12 * 3600;
const VAPID_RENEW_MS = 3_600_000;

/**
 * Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm (RFC 8291): `web-push` encrypts and
 * signs; the request goes out through node:http(s) with a lookup that refuses private addresses.
 * Topic = a hash of the collapse key (a newer push replaces an undelivered older one).
 */
@Injectable()
export class WebPushProvider implements PushProvider {
  readonly platform = 'webpush' as const;
  readonly enabled = true;
  private readonly lookup: ReturnType<typeof guardedLookup>;
  private readonly signed = new Map<string, { headers: Record<string, string>; renewAt: number }>();

  constructor(
    @Inject(CONFIG) private readonly config: NotificationConfig,
    private readonly vapid: VapidKeys,
  ) {
    this.lookup = guardedLookup(config.WEBPUSH_ALLOW_HTTP_LOOPBACK);
  }

  async send(device: DeviceRow, content: PushContent, collapseKey: string): Promise<DeliveryOutcome> {
    const sub = device.subscription;
    if (!sub) throw new ProviderError('a webpush device without a subscription', false);
    const details = webpush.generateRequestDetails(
      { endpoint: sub.endpoint, keys: { p256dh: sub.p256dh, auth: sub.auth } },
      JSON.stringify(content),
      {
        headers: await this.vapidHeaders(new URL(sub.endpoint).origin),
        TTL: this.config.NOTIFICATION_TTL_SECONDS,
        topic: createHash('sha256').update(collapseKey).digest('base64url').slice(0, 32),
        urgency: content.kind === 'badge' ? 'low' : 'high',
        contentEncoding: 'aes128gcm',
      },
    );
    const res = await guardedPost(
      details.endpoint,
      details.headers,
      details.body as Buffer | null,
      this.lookup,
      TIMEOUT_MS,
    );
    if (res.status >= 200 && res.status < 300) return 'delivered';
    if (res.status === 404 || res.status === 410) return 'gone';
    const retryable = res.status === 429 || res.status >= 500;
    throw new ProviderError(
      `push service answered ${res.status}`,
      retryable,
      res.status,
      retryAfterMs(res.headers['retry-after']),
    );
  }

  /**
   * The VAPID Authorization for a push service, signed once an hour per origin rather than per
   * push (an ES256 signature each time cost more than the request).
   */
  private async vapidHeaders(audience: string): Promise<Record<string, string>> {
    const now = Date.now();
    const hit = this.signed.get(audience);
    if (hit && hit.renewAt > now) return hit.headers;
    const keys = await this.vapid.get();
    const expiresAt = Math.floor(now / 1000) + VAPID_TTL_SECONDS;
    const headers = webpush.getVapidHeaders(
      audience,
      this.config.WEBPUSH_VAPID_SUBJECT,
      keys.publicKey,
      keys.privateKey,
      'aes128gcm',
      expiresAt,
    );
    if (this.signed.size >= 10_000) this.signed.clear();
    this.signed.set(audience, { headers, renewAt: now + VAPID_RENEW_MS });
    return headers;
  }
}
