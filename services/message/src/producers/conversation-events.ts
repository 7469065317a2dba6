import { Inject, Injectable } from '@nestjs/common';
import type { BatchingProducer } from '@im/platform/kafka';
import { PRODUCER, REGISTRY } from '@im/platform/nest';
import type { Registry } from '@im/platform/registry';
import { ConversationEvent } from '@im/proto/events/v1';

/** Sequenced conversation events to im.events.v1 (key = conversation) for notification, search, webhooks. */
@Injectable()
export class ConversationEvents {
  constructor(
    @Inject(PRODUCER) private readonly producer: BatchingProducer,
    @Inject(REGISTRY) private readonly registry: Registry,
  ) {}

  /** Waits for room in the producer's queue rather than failing the sequencer's batch (backpressure). */
  publish(events: readonly ConversationEvent[]): Promise<void> {
    return this.producer.sendMany(
      events.map((e) => ({
        topic: this.registry.topics.conversationEvents,
        key: e.conversationId,
        value: Buffer.from(ConversationEvent.encode(e).finish()),
      })),
      { waitForRoom: true },
    );
  }
}
