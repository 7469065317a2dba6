import { Inject, Injectable } from '@nestjs/common';
import { CONFIG } from '@im/platform/nest';
import type { Caller } from '@im/proto/common/v1';
import { PresenceClient } from '../clients/presence.client.js';
import type { NotificationConfig } from '../config.js';
import type { PresenceStatus } from '../domain/notification-rules.js';

const MAX_ENTRIES = 200_000;

/**
 * Presence as the push decisions read it: asked of the presence service in one call for many users
 * and kept for NOTIFICATION_PRESENCE_CACHE_MS. Staleness that short is below what presence itself
 * delays (offline is announced after a grace period), and it turns a call per message into a call
 * per consumed batch.
 */
@Injectable()
export class PresenceCache {
  private readonly entries = new Map<string, { status: PresenceStatus; until: number }>();
  private readonly ttlMs: number;

  constructor(
    private readonly presence: PresenceClient,
    @Inject(CONFIG) config: NotificationConfig,
  ) {
    this.ttlMs = config.NOTIFICATION_PRESENCE_CACHE_MS;
  }

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  async statuses(caller: Caller, userIds: readonly string[]): Promise<Map<string, PresenceStatus>> {
    const now = Date.now();
    const out = new Map<string, PresenceStatus>();
    const missing: string[] = [];
    for (const userId of userIds) {
      const hit = this.entries.get(key(caller.tenantId, userId));
      if (hit && hit.until > now) out.set(userId, hit.status);
      else missing.push(userId);
    }
    if (missing.length === 0) return out;
    const fetched = await this.presence.statuses(caller, missing);
    if (this.entries.size + missing.length > MAX_ENTRIES) this.entries.clear();
    const until = Date.now() + this.ttlMs;
    for (const userId of missing) {
      const status = fetched.get(userId) ?? 'offline';
      out.set(userId, status);
      if (this.ttlMs > 0) this.entries.set(key(caller.tenantId, userId), { status, until });
    }
    return out;
  }

  forgetAll(): void {
    this.entries.clear();
  }
}

function key(tenantId: string, userId: string): string {
  return `${tenantId}|${userId}`;
}
