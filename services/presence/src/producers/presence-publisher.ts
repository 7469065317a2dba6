import { Inject, Injectable } from '@nestjs/common';
import { NATS, REGISTRY } from '@im/platform/nest';
import { traceHeaders, type NatsConnection } from '@im/platform/nats';
import type { Registry } from '@im/platform/registry';
import { Presence } from '@im/proto/client/v1';

/**
 * One publish per presence change, on im.presence.<tenant>.<user>: gateways subscribe only for
 * the users their sockets asked about, so a change costs the same with 1 or 100 gateways.
 */
@Injectable()
export class PresencePublisher {
  constructor(
    @Inject(NATS) private readonly nats: NatsConnection,
    @Inject(REGISTRY) private readonly registry: Registry,
  ) {}

  publish(tenantId: string, presence: Presence): void {
    const headers = traceHeaders();
    this.nats.publish(
      this.registry.subjects.presenceOf(tenantId, presence.userId),
      Presence.encode(presence).finish(),
      headers ? { headers } : undefined,
    );
  }
}
