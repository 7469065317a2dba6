import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Logger } from '@im/platform/logging';
import { CONFIG, LOGGER, NATS, REGISTRY } from '@im/platform/nest';
import { NATS_BUCKETS, openKv, type KV, type NatsConnection } from '@im/platform/nats';
import type { Registry } from '@im/platform/registry';
import type { PresenceConfig } from '../config.js';

/**
 * Gateway leases: each gateway renews its key every few seconds; the bucket's TTL removes the key
 * of a gateway that stopped, and (markerTTL) leaves a purge marker that watchers see. This is how
 * devices of a killed gateway go offline without per-device heartbeats: lease traffic grows with
 * the number of gateways, not with devices.
 */
@Injectable()
export class GatewayLeases implements OnModuleInit, OnApplicationShutdown {
  private kv!: KV;
  private stopWatch: (() => void) | undefined;

  constructor(
    @Inject(NATS) private readonly nats: NatsConnection,
    @Inject(REGISTRY) private readonly registry: Registry,
    @Inject(CONFIG) private readonly config: PresenceConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    this.kv = await openKv(
      this.nats,
      this.registry.buckets.gateways,
      NATS_BUCKETS.gateways(this.config),
      this.logger,
    );
  }

  onApplicationShutdown(): void {
    this.stopWatch?.();
  }

  /** Calls `onGone` for every gateway whose lease expires or is removed from now on. */
  async watchEnds(onGone: (gatewayId: string) => void): Promise<void> {
    const iter = await this.kv.watch({ include: 'updates' });
    this.stopWatch = () => iter.stop();
    void (async () => {
      for await (const e of iter) {
        if (e.operation === 'DEL' || e.operation === 'PURGE') onGone(e.key);
      }
    })().catch((err) => this.logger.warn({ err }, 'gateway lease watch ended'));
  }

  /** The gateway holds its lease now (it may have renewed after an expiry event was sent). */
  async isAlive(gatewayId: string): Promise<boolean> {
    const e = await this.kv.get(gatewayId);
    return e?.operation === 'PUT';
  }

  async alive(): Promise<Set<string>> {
    const out = new Set<string>();
    for await (const key of await this.kv.keys()) out.add(key);
    return out;
  }
}
