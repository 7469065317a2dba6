import { randomBytes } from 'node:crypto';
import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { Logger } from '@im/platform/logging';
import { bindKv, type KV, type NatsConnection } from '@im/platform/nats';
import { CONFIG, INSTANCE_ID, LOGGER, NATS, Readiness, REGISTRY } from '@im/platform/nest';
import type { Registry } from '@im/platform/registry';
import type { DeviceRef } from '@im/proto/presence/v1';
import { Downstream } from '../clients/downstream.js';
import type { GatewayConfig } from '../config.js';
import { ConnectionRegistry } from '../live/connection-registry.js';
import type { Connection } from '../ws/connection.js';

const FLUSH_MS = 100;
/** Devices per ReportDevices call: well inside its deadline and message size. */
const REPORT_MAX = 500;
const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 5_000;

/**
 * Tells the presence service which devices (sockets) are here: connects and disconnects are
 * batched every 100 ms (a reconnect storm becomes a few calls, not thousands), and this gateway's
 * lease in the im_gateways bucket is renewed every GATEWAY_LEASE_RENEW_MS. If this process dies,
 * the lease expires and presence removes its devices; on a clean shutdown the remaining
 * disconnects are reported and the lease is dropped at once.
 */
@Injectable()
export class PresenceReporter implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  readonly gatewayId: string;
  private connected: DeviceRef[] = [];
  private disconnected: DeviceRef[] = [];
  private flushing: Promise<void> | undefined;
  /** After a failed report: the next waits this long (doubling, up to RETRY_MAX_MS), from `retryAt`. */
  private retryDelayMs = 0;
  private retryAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private lease: KV | undefined;
  private renewed = false;
  /** Renewals left that re-report every socket held here (set when a renewal fails). */
  private reReports = 0;

  constructor(
    private readonly connections: ConnectionRegistry,
    private readonly downstream: Downstream,
    @Inject(NATS) private readonly nats: NatsConnection,
    @Inject(REGISTRY) private readonly registry: Registry,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(INSTANCE_ID) instanceId: string,
    readiness: Readiness,
  ) {
    // per boot, not per pod name: a restarted container under the same name is another gateway,
    // so the old one's lease lapses (its devices are swept) and no device key is ever used twice
    this.gatewayId = `${instanceId.replace(/[^A-Za-z0-9_=-]/g, '_')}-${randomBytes(4).toString('hex')}`;
    connections.onConnection({
      added: (c) => this.connected.push(device(c)),
      removed: (c) => this.disconnected.push(device(c)),
    });
    readiness.add({
      name: 'presence-lease',
      check: async () => {
        if (!this.renewed) throw new Error(`no lease in ${registry.buckets.gateways} yet`);
      },
    });
  }

  async onModuleInit(): Promise<void> {
    await this.renewLease().catch(() => undefined);
    this.timer = setInterval(() => {
      void this.flush();
    }, FLUSH_MS);
    this.timer.unref();
    const renew = setInterval(
      () => void this.renewLease().catch((err) => this.logger.warn({ err }, 'lease renewal failed')),
      this.config.GATEWAY_LEASE_RENEW_MS,
    );
    renew.unref();
    this.stopRenewing = () => clearInterval(renew);
  }

  private stopRenewing: () => void = () => undefined;

  /** After the drain: report the last disconnects, then drop the lease so nothing lingers. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.stopRenewing();
    // in slices of REPORT_MAX; a presence service that keeps failing gets a bounded number of tries
    for (let i = 0; i < 50 && (this.connected.length > 0 || this.disconnected.length > 0); i++)
      await this.flush(true);
    await this.lease?.purge(this.gatewayId).catch(() => undefined);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /**
   * A failed renewal (NATS away) may mean the lease lapsed and presence dropped this gateway's
   * devices: the next two successful renewals report every socket held here again (idempotent;
   * the second covers a removal that was still running when the first landed).
   */
  private async renewLease(): Promise<void> {
    try {
      this.lease ??= await bindKv(this.nats, this.registry.buckets.gateways);
      await this.lease.put(this.gatewayId, JSON.stringify({ at: new Date().toISOString() }));
    } catch (err) {
      this.reReports = this.renewed ? 2 : 0;
      throw err;
    }
    this.renewed = true;
    if (this.reReports > 0) {
      this.reReports--;
      const held = [...this.connections.all()];
      for (const c of held) this.connected.push(device(c));
      this.logger.info({ sockets: held.length }, 'lease renewed after a failure: sockets re-reported');
    }
  }

  /** `now`: at shutdown, without waiting out the back-off of a failed report. */
  private flush(now = false): Promise<void> {
    if (this.flushing || (this.connected.length === 0 && this.disconnected.length === 0))
      return this.flushing ?? Promise.resolve();
    // a presence service that timed out is busy: retrying every tick would only add to it
    if (!now && Date.now() < this.retryAt) return Promise.resolve();
    // at most REPORT_MAX devices per call (a re-report of every socket, a storm), connects first:
    // a disconnect never goes before the connect of its device
    const connected = this.connected.splice(0, REPORT_MAX);
    const disconnected =
      this.connected.length > 0 ? [] : this.disconnected.splice(0, REPORT_MAX - connected.length);
    this.flushing = this.downstream.presence
      .reportDevices({ gatewayId: this.gatewayId, connected, disconnected })
      .then(
        () => {
          this.retryDelayMs = 0;
        },
        (err) => {
          // keep them for the next flush; order within the gateway stays connect-before-disconnect
          this.connected = [...connected, ...this.connected];
          this.disconnected = [...disconnected, ...this.disconnected];
          this.retryDelayMs = Math.min(RETRY_MAX_MS, Math.max(RETRY_MIN_MS, this.retryDelayMs * 2));
          this.retryAt = Date.now() + this.retryDelayMs;
          this.logger.warn({ err: String(err) }, 'reporting devices to presence failed; will retry');
        },
      )
      .finally(() => (this.flushing = undefined));
    return this.flushing;
  }
}

function device(c: Connection): DeviceRef {
  return {
    userId: c.userId,
    tenantId: c.principal.tenantId,
    sessionId: `${c.sessionId}-${c.id}`,
    at: new Date(c.connectedAt).toISOString(),
  };
}
