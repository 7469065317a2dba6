import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@im/platform/errors';
import { CONFIG } from '@im/platform/nest';
import type { Caller } from '@im/proto/common/v1';
import type { Device, WebPushSubscription } from '@im/proto/client/v1';
import type { NotificationConfig } from '../config.js';
import {
  checkTarget,
  hostLiteral,
  isLoopbackHost,
  isPublicAddress,
  targetKey,
  TargetRejected,
  type WebPushKeys,
} from '../domain/push-targets.js';
import { DevicesTable, type DeviceRow } from '../storage/devices.table.js';

const DEVICES_PER_USER = 20;

/** Push targets of the caller's sessions: register (idempotent per target), list, remove. */
@Injectable()
export class DevicesService {
  constructor(
    @Inject(CONFIG) private readonly config: NotificationConfig,
    private readonly table: DevicesTable,
  ) {}

  async register(
    caller: Caller,
    platform: string,
    token: string,
    subscription: WebPushSubscription | undefined,
  ): Promise<{ device: Device; created: boolean }> {
    const flat: WebPushKeys | undefined = subscription && {
      endpoint: subscription.endpoint,
      p256dh: subscription.keys?.p256dh ?? '',
      auth: subscription.keys?.auth ?? '',
    };
    const allowLoopback = this.config.WEBPUSH_ALLOW_HTTP_LOOPBACK;
    let target;
    try {
      target = checkTarget(platform, token, flat, allowLoopback);
      if (target.platform === 'webpush')
        await this.checkResolves(target.subscription.endpoint, allowLoopback);
    } catch (err) {
      if (err instanceof TargetRejected) throw new AppError('invalid_argument', err.message);
      throw err;
    }
    const key = targetKey(target);
    // one id per phone or browser: registering it again (or twice at once) writes the same rows
    const deviceId = createHash('sha256').update(key).digest('hex').slice(0, 32);
    const mine = await this.table.ofUser(caller.userId);
    const same = mine.find((d) => d.deviceId === deviceId);
    if (!same && mine.length >= DEVICES_PER_USER)
      throw new AppError('limit_exceeded', `at most ${DEVICES_PER_USER} push targets per user`);
    // registered before by another user (a shared device): it moves to this one
    const existing = await this.table.byTarget(key);
    if (existing && existing.userId !== caller.userId) {
      const prior = (await this.table.ofUser(existing.userId)).find((d) => d.deviceId === existing.deviceId);
      if (prior) await this.table.remove(prior);
    }
    const row: DeviceRow = {
      userId: caller.userId,
      deviceId,
      tenantId: caller.tenantId,
      platform: target.platform,
      token: target.platform === 'webpush' ? '' : target.token,
      subscription: target.platform === 'webpush' ? target.subscription : undefined,
      sessionId: caller.sessionId,
      target: key,
      createdAt: same?.createdAt ?? new Date(),
    };
    await this.table.put(row, same?.sessionId);
    return { device: view(row), created: !same };
  }

  async list(caller: Caller): Promise<Device[]> {
    return (await this.table.ofUser(caller.userId)).filter((d) => d.tenantId === caller.tenantId).map(view);
  }

  async remove(caller: Caller, deviceId: string): Promise<void> {
    const row = (await this.table.ofUser(caller.userId)).find(
      (d) => d.deviceId === deviceId && d.tenantId === caller.tenantId,
    );
    if (!row) throw new AppError('not_found', 'no such device');
    await this.table.remove(row);
  }

  /** Logout or revocation: the session's targets go with it. */
  async removeSession(sessionId: string): Promise<number> {
    const refs = await this.table.ofSession(sessionId);
    for (const ref of refs) {
      const row = (await this.table.ofUser(ref.userId)).find((d) => d.deviceId === ref.deviceId);
      // registered again by a newer session meanwhile: that registration stays
      if (row && row.sessionId === sessionId) await this.table.remove(row);
    }
    return refs.length;
  }

  /** A name must not resolve inside the network either (checked again on every push). */
  private async checkResolves(endpoint: string, allowLoopback: boolean): Promise<void> {
    const host = new URL(endpoint).hostname;
    if (hostLiteral(host)) return;
    if (allowLoopback && isLoopbackHost(host)) return;
    let addresses;
    try {
      addresses = await lookup(host, { all: true });
    } catch {
      throw new TargetRejected('subscription.endpoint: the host does not resolve');
    }
    if (addresses.some((a) => !isPublicAddress(a.address)))
      throw new TargetRejected('subscription.endpoint: a private or reserved address');
  }
}

function view(d: DeviceRow): Device {
  return {
    id: d.deviceId,
    platform: d.platform,
    token: d.token,
    ...(d.subscription
      ? {
          subscription: {
            endpoint: d.subscription.endpoint,
            keys: { p256dh: d.subscription.p256dh, auth: d.subscription.auth },
          },
        }
      : {}),
    sessionId: d.sessionId,
    createdAt: d.createdAt.toISOString(),
  };
}
