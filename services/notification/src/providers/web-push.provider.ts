import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { Inject, Injectable } from '@nestjs/common';
import webpush from 'web-push';
import { CONFIG } from '@im/platform/nest';
import type { NotificationConfig } from '../config.js';
import type { PushContent } from '../domain/push-content.js';
import type { DeviceRow } from '../storage/devices.table.js';
import { guardedLookup } from './guarded-lookup.js';
import { ProviderError, retryAfterMs, type DeliveryOutcome, type PushProvider } from './push-provider.js';
import { VapidKeys } from './vapid-keys.js';

const TIMEOUT_MS = 10_000;

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

  constructor(
    @Inject(CONFIG) private readonly config: NotificationConfig,
    private readonly vapid: VapidKeys,
  ) {
    this.lookup = guardedLookup(config.WEBPUSH_ALLOW_HTTP_LOOPBACK);
  }

  async send(device: DeviceRow, content: PushContent, collapseKey: string): Promise<DeliveryOutcome> {
    const sub = device.subscription;
    if (!sub) throw new ProviderError('a webpush device without a subscription', false);
    const keys = await this.vapid.get();
    const details = webpush.generateRequestDetails(
      { endpoint: sub.endpoint, keys: { p256dh: sub.p256dh, auth: sub.auth } },
      JSON.stringify(content),
      {
        vapidDetails: { subject: this.config.WEBPUSH_VAPID_SUBJECT, ...keys },
        TTL: this.config.NOTIFICATION_TTL_SECONDS,
        topic: createHash('sha256').update(collapseKey).digest('base64url').slice(0, 32),
        urgency: content.kind === 'badge' ? 'low' : 'high',
        contentEncoding: 'aes128gcm',
      },
    );
    const res = await this.post(details.endpoint, details.headers, details.body as Buffer | null);
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

  private post(
    endpoint: string,
    headers: Record<string, string | number>,
    body: Buffer | null,
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
    const url = new URL(endpoint);
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = transport.request(
        url,
        { method: 'POST', headers, lookup: this.lookup, timeout: TIMEOUT_MS },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
          res.on('error', (err) => reject(new ProviderError(err.message, true)));
        },
      );
      // an idle timeout, and a deadline for the whole exchange (a server trickling bytes holds no slot)
      req.on('timeout', () => req.destroy(new Error('timed out')));
      const deadline = setTimeout(() => req.destroy(new Error('no answer in time')), TIMEOUT_MS);
      req.on('close', () => clearTimeout(deadline));
      req.on('error', (err: NodeJS.ErrnoException) =>
        reject(new ProviderError(`push service unreachable: ${err.message}`, err.code !== 'EPUSHBLOCKED')),
      );
      req.end(body ?? undefined);
    });
  }
}
