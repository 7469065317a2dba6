import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Logger } from '@im/platform/logging';
import { LOGGER, NATS, REGISTRY } from '@im/platform/nest';
import { NATS_BUCKETS, kvValues, openKv, type KV, type NatsConnection } from '@im/platform/nats';
import type { Registry } from '@im/platform/registry';
import { keyToken, type UserPresence } from '../domain/presence-rules.js';

const CAS_ATTEMPTS = 20;
const MAX_BACKOFF_MS = 50;
const decoder = new TextDecoder();

/**
 * The presence bucket: u.<userId> holds a user's presence (devices, chosen status, last seen),
 * g.<gatewayId>.<userId>.<deviceId> indexes devices by gateway so a gateway that dies can be
 * swept. Updates of u.* are compare-and-set, so concurrent changes from several replicas and
 * gateways never lose a device.
 */
@Injectable()
export class PresenceKv implements OnModuleInit {
  private kv!: KV;

  constructor(
    @Inject(NATS) private readonly nats: NatsConnection,
    @Inject(REGISTRY) private readonly registry: Registry,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    this.kv = await openKv(this.nats, this.registry.buckets.presence, NATS_BUCKETS.presence(), this.logger);
  }

  /** The presence of many users in one read of the bucket; users never seen are absent. */
  async getMany(userIds: readonly string[]): Promise<Map<string, UserPresence>> {
    const keyOf = (userId: string) => `u.${keyToken(userId)}`;
    const values = await kvValues(this.nats, this.kv, this.registry.buckets.presence, userIds.map(keyOf));
    const out = new Map<string, UserPresence>();
    for (const userId of userIds) {
      const value = values.get(keyOf(userId));
      if (value) out.set(userId, JSON.parse(decoder.decode(value)) as UserPresence);
    }
    return out;
  }

  /**
   * Applies `change` to the user's record atomically (retried on a concurrent write) and returns
   * the record before and after. `change` returning undefined leaves the record as it is.
   */
  async update(
    userId: string,
    init: () => UserPresence,
    change: (current: UserPresence) => UserPresence | undefined,
  ): Promise<{ before: UserPresence | undefined; after: UserPresence }> {
    const key = `u.${keyToken(userId)}`;
    for (let attempt = 0; ; attempt++) {
      const e = await this.kv.get(key);
      const before = e && e.operation === 'PUT' && e.length > 0 ? (e.json() as UserPresence) : undefined;
      const next = change(structuredClone(before ?? init()));
      if (!next) return { before, after: before ?? init() };
      try {
        const data = JSON.stringify(next);
        if (e) await this.kv.update(key, data, e.revision);
        else await this.kv.create(key, data);
        return { before, after: next };
      } catch (err) {
        if (attempt >= CAS_ATTEMPTS) throw err;
        // another writer won: back off (jittered, growing) so contenders spread out instead of
        // re-reading in lockstep
        await sleep(Math.random() * Math.min(MAX_BACKOFF_MS, 2 ** attempt));
      }
    }
  }

  indexDevice(gatewayId: string, userId: string, deviceId: string): Promise<number> {
    return this.kv.put(`g.${keyToken(gatewayId)}.${keyToken(userId)}.${keyToken(deviceId)}`, userId);
  }

  unindexDevice(gatewayId: string, userId: string, deviceId: string): Promise<void> {
    return this.kv.purge(`g.${keyToken(gatewayId)}.${keyToken(userId)}.${keyToken(deviceId)}`);
  }

  /** [userId, deviceId] of every device indexed under a gateway. */
  async devicesOf(gatewayId: string): Promise<Array<[string, string]>> {
    const out: Array<[string, string]> = [];
    for await (const key of await this.kv.keys(`g.${keyToken(gatewayId)}.>`)) {
      const [, , user, device] = key.split('.');
      if (user && device) out.push([user, device]);
    }
    return out;
  }

  /** Gateway ids that have devices indexed. */
  async gatewaysWithDevices(): Promise<Set<string>> {
    const out = new Set<string>();
    for await (const key of await this.kv.keys('g.>')) out.add(key.split('.')[1]!);
    return out;
  }
}
