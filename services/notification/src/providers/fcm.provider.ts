import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Inject, Injectable } from '@nestjs/common';
import { JWT } from 'google-auth-library';
import type { Logger } from '@im/platform/logging';
import { CONFIG, LOGGER } from '@im/platform/nest';
import type { NotificationConfig } from '../config.js';
import type { PushContent } from '../domain/push-content.js';
import type { DeviceRow } from '../storage/devices.table.js';
import { ProviderError, retryAfterMs, type DeliveryOutcome, type PushProvider } from './push-provider.js';

const SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
const TIMEOUT_MS = 10_000;

interface ServiceAccount {
  client_email: string;
  private_key: string;
  project_id?: string;
  token_uri?: string;
}

/**
 * FCM HTTP v1: OAuth2 access tokens from a service account (`google-auth-library`, cached and
 * refreshed by it), then `messages:send` with fetch. The token endpoint is the account's
 * `token_uri` (Google's unless the JSON names another). UNREGISTERED (404) and an invalid token
 * remove the device; 429 and 5xx retry, honouring Retry-After.
 */
@Injectable()
export class FcmProvider implements PushProvider {
  readonly platform = 'fcm' as const;
  private readonly jwt: JWT | undefined;
  private readonly sendUrl: string = '';

  constructor(
    @Inject(CONFIG) private readonly config: NotificationConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    if (!config.FCM_CREDENTIALS_FILE) {
      logger.info('FCM not configured (FCM_CREDENTIALS_FILE): FCM pushes are skipped');
      return;
    }
    const account = JSON.parse(readFileSync(config.FCM_CREDENTIALS_FILE, 'utf8')) as ServiceAccount;
    const project = config.FCM_PROJECT_ID ?? account.project_id;
    if (!account.client_email || !account.private_key || !project)
      throw new Error(
        'FCM_CREDENTIALS_FILE needs client_email, private_key and a project (or FCM_PROJECT_ID)',
      );
    this.jwt = new JWT({ email: account.client_email, key: account.private_key, scopes: [SCOPE] });
    const tokenUri = account.token_uri;
    if (tokenUri && tokenUri !== GOOGLE_TOKEN_URL)
      this.jwt.transporter.interceptors.request.add({
        resolved: async (opts) =>
          String(opts.url) === GOOGLE_TOKEN_URL ? Object.assign(opts, { url: new URL(tokenUri) }) : opts,
      });
    this.sendUrl = `${config.FCM_ENDPOINT.replace(/\/$/, '')}/v1/projects/${encodeURIComponent(project)}/messages:send`;
  }

  get enabled(): boolean {
    return this.jwt !== undefined;
  }

  async send(device: DeviceRow, content: PushContent, collapseKey: string): Promise<DeliveryOutcome> {
    let token: string | null | undefined;
    try {
      token = (await this.jwt!.getAccessToken()).token;
    } catch (err) {
      throw new ProviderError(`FCM access token: ${String(err)}`, true);
    }
    const res = await fetch(this.sendUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: this.message(device.token, content, collapseKey) }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    }).catch((err: unknown) => {
      throw new ProviderError(`FCM unreachable: ${String(err)}`, true);
    });
    if (res.ok) {
      await res.body?.cancel(); // the answer is not needed; free the connection
      return 'delivered';
    }
    const body = (await res.json().catch(() => ({}))) as {
      error?: { status?: string; details?: Array<{ errorCode?: string }> };
    };
    const code = body.error?.details?.find((d) => d.errorCode)?.errorCode ?? body.error?.status ?? '';
    // only UNREGISTERED proves the token dead: INVALID_ARGUMENT may be our payload or configuration
    if (code === 'UNREGISTERED') return 'gone';
    // a revoked access token: expire the cached one so the next attempt fetches a new one
    if (res.status === 401) this.jwt!.credentials = { refresh_token: 'jwt-placeholder', expiry_date: 1 };
    const retryable = res.status === 401 || res.status === 429 || res.status >= 500;
    throw new ProviderError(
      `FCM answered ${res.status} ${code}`,
      retryable,
      res.status,
      retryAfterMs(res.headers.get('retry-after') ?? undefined),
    );
  }

  /** Data for the app, a visible notification when previews allow, collapsed per conversation. */
  private message(token: string, content: PushContent, collapseKey: string) {
    const data: Record<string, string> = {
      kind: content.kind,
      conversationId: content.conversationId,
      seq: String(content.seq),
      count: String(content.count),
      badge: String(content.badge),
    };
    const collapse = createHash('sha256').update(collapseKey).digest('base64url').slice(0, 32);
    return {
      token,
      data,
      ...(content.kind === 'messages' && content.title
        ? { notification: { title: content.title, body: content.body ?? '' } }
        : {}),
      android: {
        collapse_key: collapse,
        priority: content.kind === 'badge' ? 'normal' : 'high',
        ttl: `${this.ttlSeconds}s`,
        ...(content.kind === 'messages'
          ? { notification: { tag: collapse, notification_count: content.badge } }
          : {}),
      },
    };
  }

  private get ttlSeconds(): number {
    return this.config.NOTIFICATION_TTL_SECONDS;
  }
}
