import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from '@im/platform/logging';
import { LOGGER } from '@im/platform/nest';
import { AuthClient } from '../clients/auth.client.js';
import { MessageClient } from '../clients/message.client.js';
import { badgeUpdate, composePush } from '../domain/push-content.js';
import { RulesCache } from '../settings/rules-cache.js';
import { DevicesTable } from '../storage/devices.table.js';
import { PushedEventsTable } from '../storage/pushed-events.table.js';
import { Delivery } from './delivery.js';
import type { PendingPush } from './push-batches.js';

/** One due batch → one push per device of the user, with the badge as it is now. */
@Injectable()
export class PushSender {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly devices: DevicesTable,
    private readonly messages: MessageClient,
    private readonly auth: AuthClient,
    private readonly rules: RulesCache,
    private readonly pushed: PushedEventsTable,
    private readonly delivery: Delivery,
  ) {}

  /** Throws when a store or service needed is down: the caller puts the batch back to wait. */
  async send(entry: PendingPush): Promise<void> {
    const devices = (await this.devices.ofUser(entry.userId)).filter((d) => d.tenantId === entry.tenantId);
    if (devices.length === 0) return;
    if (entry.kind === 'messages') {
      // a replay (rebalance, restart) may have queued events another batch has pushed meanwhile
      const pushed = await Promise.all(entry.messages.map((m) => this.pushed.usersPushed(m.eventId)));
      entry.messages = entry.messages.filter((_, i) => !pushed[i]!.has(entry.userId));
      if (entry.messages.length === 0) return;
    }
    const badge = (await this.messages.unreadTotals(entry.tenantId, [entry.userId])).get(entry.userId) ?? 0;
    let content;
    if (entry.kind === 'badge') {
      content = badgeUpdate(entry.conversationId, entry.seq, badge);
    } else {
      const { previews } = await this.rules.user(entry.userId);
      const caller = { userId: entry.userId, tenantId: entry.tenantId, sessionId: '' };
      const names =
        previews === 'none'
          ? new Map<string, string>()
          : await this.auth.displayNames(
              caller,
              entry.messages.map((m) => m.senderId),
            );
      content = composePush(
        entry.conversationId,
        entry.messages,
        previews,
        (id) => names.get(id) ?? 'Someone',
        badge,
      );
    }
    await Promise.all(devices.map((d) => this.delivery.send(d, content, entry.conversationId)));
    if (entry.kind === 'messages')
      await this.pushed.record(
        entry.userId,
        entry.messages.map((m) => m.eventId),
      );
    this.logger.debug(
      {
        userId: entry.userId,
        conversationId: entry.conversationId,
        kind: entry.kind,
        devices: devices.length,
      },
      'push batch sent',
    );
  }
}
