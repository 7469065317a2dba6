import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from '@im/platform/logging';
import { LOGGER } from '@im/platform/nest';
import { AuthClient } from '../clients/auth.client.js';
import { MessageClient } from '../clients/message.client.js';
import { badgeUpdate, composePush, type PushContent } from '../domain/push-content.js';
import { RulesCache } from '../settings/rules-cache.js';
import { DevicesTable, type DeviceRow } from '../storage/devices.table.js';
import { PushedUptoTable } from '../storage/pushed-upto.table.js';
import { Delivery } from './delivery.js';
import type { PendingPush } from './push-batches.js';

interface Prepared {
  entry: PendingPush;
  devices: DeviceRow[];
}

/**
 * Due batches → one push per device of each user, with the badge as it is now (one call to the
 * message service for all the users of a tick). A batch whose messages were all pushed already
 * (a replay after a crash or a rebalance) sends nothing.
 */
@Injectable()
export class PushSender {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly devices: DevicesTable,
    private readonly messages: MessageClient,
    private readonly auth: AuthClient,
    private readonly rules: RulesCache,
    private readonly pushedUpto: PushedUptoTable,
    private readonly delivery: Delivery,
  ) {}

  /**
   * Sends every batch; calls done() for each one finished (sent, or nothing to send) and failed()
   * for each a store or service needed was down for (the caller puts it back to wait).
   */
  async sendAll(
    entries: readonly PendingPush[],
    done: (e: PendingPush) => void,
    failed: (e: PendingPush, err: unknown) => void,
  ): Promise<void> {
    const prepared: Prepared[] = [];
    await Promise.all(
      entries.map(async (entry) => {
        try {
          const p = await this.prepare(entry);
          if (p) prepared.push(p);
          else done(entry);
        } catch (err) {
          failed(entry, err);
        }
      }),
    );
    const byTenant = new Map<string, Prepared[]>();
    for (const p of prepared) byTenant.set(p.entry.tenantId, [...(byTenant.get(p.entry.tenantId) ?? []), p]);
    await Promise.all(
      [...byTenant].map(async ([tenantId, group]) => {
        let badges: Map<string, number>;
        try {
          badges = await this.messages.unreadTotals(tenantId, [...new Set(group.map((p) => p.entry.userId))]);
        } catch (err) {
          for (const p of group) failed(p.entry, err);
          return;
        }
        await Promise.all(
          group.map((p) =>
            this.send(p, badges.get(p.entry.userId) ?? 0).then(
              () => done(p.entry),
              (err: unknown) => failed(p.entry, err),
            ),
          ),
        );
      }),
    );
  }

  /** The user's devices, and for messages only those not pushed yet; undefined: nothing to send. */
  private async prepare(entry: PendingPush): Promise<Prepared | undefined> {
    const devices = (await this.devices.ofUser(entry.userId)).filter((d) => d.tenantId === entry.tenantId);
    if (devices.length === 0) return undefined;
    if (entry.kind === 'messages') {
      const upto = await this.pushedUpto.get(entry.userId, entry.conversationId);
      entry.messages = entry.messages.filter((m) => m.seq > upto);
      if (entry.messages.length === 0) return undefined;
    }
    return { entry, devices };
  }

  private async send({ entry, devices }: Prepared, badge: number): Promise<void> {
    let content: PushContent;
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
    if (entry.kind === 'messages') {
      const upto = Math.max(...entry.messages.map((m) => m.seq));
      // delivered already: a failed write must not send it again (this replica remembers it)
      await this.pushedUpto.advance(entry.userId, entry.conversationId, upto).catch((err: unknown) => {
        this.logger.warn(
          { err: String(err), userId: entry.userId },
          'pushed_upto not written (kept in memory)',
        );
      });
    }
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
