import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@im/platform/errors';
import { uuidv7 } from '@im/platform/ids';
import { CONFIG } from '@im/platform/nest';
import type { Webhook, WebhookDeadLetter } from '@im/proto/client/v1';
import type { Caller } from '@im/proto/common/v1';
import { AuthClient } from '../clients/auth.client.js';
import type { NotificationConfig } from '../config.js';
import { checkPublicUrl, TargetRejected } from '../domain/push-targets.js';
import { WEBHOOK_EVENT_TYPES } from '../domain/webhook-events.js';
import { WebhooksTable, type WebhookRow } from '../storage/webhooks.table.js';

const WEBHOOKS_PER_TENANT = 20;
const CACHE_MS = 30_000;

/**
 * A tenant's webhooks, managed by its admins (the auth service says who is one, fresh on every
 * call). Deliveries read them through a 30 s cache; this replica forgets its copy on a change.
 */
@Injectable()
export class WebhooksService {
  private readonly cache = new Map<string, { rows: WebhookRow[]; until: number }>();

  constructor(
    @Inject(CONFIG) private readonly config: NotificationConfig,
    private readonly table: WebhooksTable,
    private readonly auth: AuthClient,
  ) {}

  async create(
    caller: Caller,
    url: string,
    events: readonly string[],
  ): Promise<{ webhook: Webhook; secret: string }> {
    await this.requireAdmin(caller);
    try {
      checkPublicUrl(url, this.config.WEBHOOK_ALLOW_HTTP_LOOPBACK, 'url');
    } catch (err) {
      if (err instanceof TargetRejected) throw new AppError('invalid_argument', err.message);
      throw err;
    }
    const unknown = events.filter((e) => !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(e));
    if (events.length === 0 || unknown.length > 0)
      throw new AppError('invalid_argument', `events: one or more of ${WEBHOOK_EVENT_TYPES.join(', ')}`);
    const existing = await this.table.ofTenant(caller.tenantId);
    if (existing.length >= WEBHOOKS_PER_TENANT)
      throw new AppError('limit_exceeded', `at most ${WEBHOOKS_PER_TENANT} webhooks per tenant`);
    const row: WebhookRow = {
      tenantId: caller.tenantId,
      webhookId: uuidv7(),
      url,
      events: [...new Set(events)],
      secret: `whsec_${randomBytes(32).toString('base64url')}`,
      createdAt: new Date(),
    };
    await this.table.insert(row);
    this.cache.delete(caller.tenantId);
    return { webhook: view(row), secret: row.secret };
  }

  async list(caller: Caller): Promise<Webhook[]> {
    await this.requireAdmin(caller);
    return (await this.table.ofTenant(caller.tenantId)).map(view);
  }

  async remove(caller: Caller, webhookId: string): Promise<void> {
    await this.requireOwn(caller, webhookId);
    await this.table.remove(caller.tenantId, webhookId);
    this.cache.delete(caller.tenantId);
  }

  async deadLetters(caller: Caller, webhookId: string): Promise<WebhookDeadLetter[]> {
    await this.requireOwn(caller, webhookId);
    return (await this.table.deadLetters(webhookId)).map((d) => ({
      eventId: d.eventId,
      eventType: d.eventType,
      conversationId: d.conversationId,
      failedAt: d.failedAt.toISOString(),
      attempts: d.attempts,
      lastError: d.lastError,
    }));
  }

  /** The tenant's webhooks for deliveries (cached). */
  async ofTenant(tenantId: string): Promise<WebhookRow[]> {
    const hit = this.cache.get(tenantId);
    if (hit && hit.until > Date.now()) return hit.rows;
    const rows = await this.table.ofTenant(tenantId);
    if (this.cache.size >= 10_000) this.cache.clear();
    this.cache.set(tenantId, { rows, until: Date.now() + CACHE_MS });
    return rows;
  }

  private async requireAdmin(caller: Caller): Promise<void> {
    if ((await this.auth.roleOf(caller)) !== 'admin') throw new AppError('forbidden', 'tenant admins only');
  }

  private async requireOwn(caller: Caller, webhookId: string): Promise<void> {
    await this.requireAdmin(caller);
    if (!(await this.table.ofTenant(caller.tenantId)).some((w) => w.webhookId === webhookId))
      throw new AppError('not_found', 'no such webhook');
  }
}

function view(w: WebhookRow): Webhook {
  return { id: w.webhookId, url: w.url, events: w.events, createdAt: w.createdAt.toISOString() };
}
