import { Inject, Injectable } from '@nestjs/common';
import { traceHeaders, type NatsConnection } from '@im/platform/nats';
import { NATS, REGISTRY } from '@im/platform/nest';
import type { Registry } from '@im/platform/registry';
import { LiveEvent } from '@im/proto/events/v1';

/**
 * Live events to users over core NATS (im.live.user.<id>): at most once per publish, which is
 * fine because clients detect gaps in seq and heal with sync. The event is encoded once and the
 * same bytes go to every recipient's subject.
 */
@Injectable()
export class LivePublisher {
  constructor(
    @Inject(NATS) private readonly nats: NatsConnection,
    @Inject(REGISTRY) private readonly registry: Registry,
  ) {}

  publish(userIds: Iterable<string>, event: LiveEvent): void {
    const data = LiveEvent.encode(event).finish();
    const headers = traceHeaders();
    for (const userId of userIds) {
      this.nats.publish(this.registry.subjects.liveUser(userId), data, headers ? { headers } : undefined);
    }
  }
}
