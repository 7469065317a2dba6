import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { AppError } from '@im/platform/errors';
import type { Logger } from '@im/platform/logging';
import { CONFIG, LOGGER } from '@im/platform/nest';
import type { Presence } from '@im/proto/client/v1';
import type { Caller } from '@im/proto/common/v1';
import type { DeviceRef } from '@im/proto/presence/v1';
import type { PresenceConfig } from '../config.js';
import { PresencePublisher } from '../producers/presence-publisher.js';
import { GatewayLeases } from '../storage/gateway-leases.js';
import { PresenceKv } from '../storage/presence-kv.js';
import { CoalescedUpdates } from './coalesced-updates.js';
import {
  connectDevice,
  deviceKey,
  disconnectDevice,
  effectiveStatus,
  keyToken,
  validateStatus,
  type UserPresence,
} from './presence-rules.js';

/**
 * Presence from device reports and gateway leases:
 * - a gateway reports devices as they connect and disconnect (batched);
 * - a user is online while any device is; a chosen away/busy/offline(invisible) wins;
 * - going offline is announced after PRESENCE_OFFLINE_GRACE_MS, and only if no device came back
 *   meanwhile: reconnect storms and flapping networks do not flood watchers;
 * - a gateway whose lease expires takes its devices with it (lease expiry event, plus a periodic
 *   sweep as a safety net): no ghosts after a crash.
 */
/** Devices of a vanished gateway removed per step (its lease is checked again between steps). */
const GONE_SLICE = 100;

@Injectable()
export class PresenceService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly pendingOffline = new Map<string, NodeJS.Timeout>();
  private readonly deviceUpdates = new CoalescedUpdates<UserPresence>((userId, changes) =>
    this.writeDevices(userId, changes),
  );
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: PresenceKv,
    private readonly leases: GatewayLeases,
    private readonly publisher: PresencePublisher,
    @Inject(CONFIG) private readonly config: PresenceConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.leases.watchEnds(
      (gatewayId) =>
        void this.gatewayGone(gatewayId).catch((err) =>
          this.logger.warn({ err, gatewayId }, 'sweeping a gateway failed'),
        ),
    );
    this.sweeper = setInterval(
      () => void this.sweep().catch((err) => this.logger.warn({ err }, 'presence sweep failed')),
      this.config.PRESENCE_SWEEP_INTERVAL_MS,
    );
    this.sweeper.unref();
  }

  beforeApplicationShutdown(): void {
    clearInterval(this.sweeper);
    for (const t of this.pendingOffline.values()) clearTimeout(t);
  }

  /**
   * `abandoned`: the gateway stopped waiting for this report (its deadline passed). It then sends
   * the report again, with what happened since, so this one must change nothing more: a connect
   * applied after the resent report's disconnect would leave a closed socket online for as long as
   * the gateway lives. Checked here to stop early; what guarantees it, also when the check passed
   * just before the deadline, is that a closed device is remembered and never connects again.
   */
  async devicesChanged(
    gatewayId: string,
    connected: readonly DeviceRef[],
    disconnected: readonly DeviceRef[],
    abandoned: () => boolean = () => false,
  ): Promise<void> {
    const gw = keyToken(gatewayId);
    // Index first, then queue every change at once in the report's order (connects before
    // disconnects): the per-user queue keeps that order, so a socket that came and went within one
    // report ends up gone, never connected after its disconnect.
    await Promise.all(connected.map((d) => this.store.indexDevice(gw, d.userId, d.sessionId)));
    if (abandoned())
      throw new AppError('unavailable', 'the report came too late; the gateway sends it again');
    // connects of sockets that had already closed: indexed above, to be unindexed again below
    const closed = new Set<DeviceRef>();
    await Promise.all([
      ...connected.map((d) =>
        this.changeDevices(d.userId, d.tenantId, (p) => {
          // and again when the user's queued write runs: it may run after the deadline too
          if (abandoned()) return;
          const key = deviceKey(gw, d.sessionId);
          if (connectDevice(p, key, d.at ? Date.parse(d.at) : Date.now(), Date.now())) closed.delete(d);
          else closed.add(d);
        }),
      ),
      ...disconnected.map((d) =>
        this.changeDevices(d.userId, d.tenantId, (p) =>
          disconnectDevice(p, deviceKey(gw, d.sessionId), Date.now()),
        ),
      ),
    ]);
    await Promise.all(
      [...disconnected, ...closed].map((d) => this.store.unindexDevice(gw, d.userId, d.sessionId)),
    );
  }

  async setStatus(caller: Caller, status: string, statusText: string | undefined): Promise<Presence> {
    const { explicit, text } = validateStatus(status, statusText);
    const { after } = await this.store.update(
      caller.userId,
      () => ({ tenantId: caller.tenantId, devices: {} }),
      (p) => ({ ...p, tenantId: caller.tenantId, explicit, statusText: text }),
    );
    return this.announceIfChanged(caller.userId, after, true);
  }

  /** Presence of users of the caller's tenant; anyone else (or unknown) reads as offline. */
  async getPresence(caller: Caller, userIds: readonly string[]): Promise<Presence[]> {
    const unique = [...new Set(userIds)].slice(0, 1_000);
    const stored = await this.store.getMany(unique);
    return unique.map((userId) => {
      const p = stored.get(userId);
      if (!p || p.tenantId !== caller.tenantId) return { userId, status: 'offline' };
      return view(userId, p, p.announced ?? effectiveStatus(p));
    });
  }

  /** A gateway's lease ended (crash, network partition, or clean shutdown): its devices are gone. */
  async gatewayGone(gatewayId: string): Promise<void> {
    // back already (its lease lapsed in a NATS outage and it renewed): its sockets are still there.
    // Asked again before every slice: a big gateway may renew while its removal is under way.
    const devices = await this.store.devicesOf(gatewayId);
    for (let at = 0; at < devices.length; at += GONE_SLICE) {
      if (await this.leases.isAlive(gatewayId)) return;
      if (at === 0)
        this.logger.info({ gatewayId, devices: devices.length }, 'gateway gone: removing its devices');
      await Promise.all(
        devices.slice(at, at + GONE_SLICE).map(async ([userId, deviceId]) => {
          await this.changeDevices(userId, undefined, (p) => {
            delete p.devices[deviceKey(gatewayId, deviceId)];
          });
          await this.store.unindexDevice(gatewayId, userId, deviceId);
        }),
      );
    }
  }

  /** Devices indexed under a gateway without a lease: the expiry event was missed. */
  async sweep(): Promise<void> {
    const [alive, withDevices] = await Promise.all([this.leases.alive(), this.store.gatewaysWithDevices()]);
    for (const gw of withDevices) if (!alive.has(gw)) await this.gatewayGone(gw);
  }

  /** Device changes of one user queue behind its write in flight and go in the next one together. */
  private changeDevices(
    userId: string,
    tenantId: string | undefined,
    mutate: (p: UserPresence) => void,
  ): Promise<void> {
    return this.deviceUpdates.apply(userId, (p) => {
      if (tenantId) p.tenantId = tenantId;
      mutate(p);
    });
  }

  private async writeDevices(userId: string, changes: Array<(p: UserPresence) => void>): Promise<void> {
    const { after } = await this.store.update(
      userId,
      () => ({ tenantId: '', devices: {} }),
      (p) => {
        for (const change of changes) change(p);
        return p;
      },
    );
    await this.announceIfChanged(userId, after, false);
  }

  /**
   * Announces the user's status if it differs from the last announcement. Offline waits for the
   * grace period (and is re-checked then); anything else goes out at once and cancels a pending offline.
   */
  private async announceIfChanged(userId: string, p: UserPresence, force: boolean): Promise<Presence> {
    const status = effectiveStatus(p);
    if (status !== 'offline' || this.config.PRESENCE_OFFLINE_GRACE_MS === 0) {
      clearTimeout(this.pendingOffline.get(userId));
      this.pendingOffline.delete(userId);
      return this.announce(userId, status, force);
    }
    if (p.announced !== 'offline' && !this.pendingOffline.has(userId)) {
      this.pendingOffline.set(
        userId,
        setTimeout(() => {
          this.pendingOffline.delete(userId);
          void this.announce(userId, 'offline', false).catch((err) =>
            this.logger.warn({ err, userId }, 'announcing offline failed'),
          );
        }, this.config.PRESENCE_OFFLINE_GRACE_MS).unref(),
      );
    }
    return view(userId, p, p.announced ?? status);
  }

  /** Records and publishes `expected` if it still holds and differs from what was announced. */
  private async announce(userId: string, expected: string, force: boolean): Promise<Presence> {
    let publish = false;
    const { after } = await this.store.update(
      userId,
      () => ({ tenantId: '', devices: {} }),
      (p) => {
        const now = effectiveStatus(p);
        if (now !== expected || (p.announced === now && !force)) return undefined;
        publish = true;
        return {
          ...p,
          announced: now,
          ...(now === 'offline' && Object.keys(p.devices).length === 0
            ? { lastSeenAt: new Date().toISOString() }
            : {}),
        };
      },
    );
    const presence = view(userId, after, after.announced ?? effectiveStatus(after));
    if (publish && after.tenantId) this.publisher.publish(after.tenantId, presence);
    return presence;
  }
}

function view(userId: string, p: UserPresence, status: string): Presence {
  return {
    userId,
    status,
    ...(p.lastSeenAt && status === 'offline' ? { lastSeenAt: p.lastSeenAt } : {}),
    ...(p.statusText && status !== 'offline' ? { statusText: p.statusText } : {}),
  };
}
