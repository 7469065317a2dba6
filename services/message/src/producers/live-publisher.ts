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
    this.publishEach(
      userIds,
      () => '',
      () => event,
    );
  }

  /**
   * An event that differs per recipient (reactions' `me`): recipients of the same variant share
   * one encoding, so the cost stays one encode per variant, not per recipient.
   */
  publishEach(
    userIds: Iterable<string>,
    variantOf: (userId: string) => string,
    build: (variant: string) => LiveEvent,
  ): void {
    const encoded = new Map<string, Uint8Array>();
    const headers = traceHeaders();
    for (const userId of userIds) {
      const variant = variantOf(userId);
      let data = encoded.get(variant);
      if (!data) encoded.set(variant, (data = LiveEvent.encode(build(variant)).finish()));
      this.nats.publish(this.registry.subjects.liveUser(userId), data, headers ? { headers } : undefined);
    }
  }
}
