import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { BACKGROUND_FETCH, BatchConsumer, type ConsumedBatch, decodeRecords } from '@im/platform/kafka';
import type { Logger } from '@im/platform/logging';
import { KAFKA, LOGGER, REGISTRY } from '@im/platform/nest';
import type { Registry } from '@im/platform/registry';
import { meter } from '@im/platform/telemetry';
import { ConversationEvent } from '@im/proto/events/v1';
import { indexOperationOf, type IndexOperation } from '../domain/search-documents.js';
import { MessagesIndex } from './messages-index.js';

/**
 * Feeds the search index from im.events.v1: creates, edits and deletes, a bulk request per batch.
 * Its own consumer group, so search lagging (or OpenSearch down) never slows messaging; offsets
 * are committed after the bulk request, so nothing is skipped, and versioned writes make the
 * replays harmless.
 */
@Injectable()
export class SearchIndexer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer: BatchConsumer | undefined;
  private ensured: Promise<void> | undefined;
  private readonly indexed = meter().createCounter('im_search_documents_indexed_total', {
    description: 'message documents written to the search index',
  });

  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(REGISTRY) private readonly registry: Registry,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly index: MessagesIndex,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = new BatchConsumer(this.kafka, {
      groupId: this.registry.groups.searchIndexer,
      topics: [this.registry.topics.conversationEvents],
      logger: this.logger,
      fromBeginning: true,
      fetch: BACKGROUND_FETCH,
      handle: (batch) => this.handle(batch),
    });
    await this.consumer.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }

  private async handle(batch: ConsumedBatch): Promise<void> {
    const events = decodeRecords(
      batch,
      (v) => ConversationEvent.decode(v),
      this.logger,
      'event (search indexer)',
    );
    const ops = events.map(indexOperationOf).filter((op): op is IndexOperation => op !== undefined);
    // here, not at start: an OpenSearch that is down must not keep the message service from starting
    this.ensured ??= this.index.ensure().catch((err: unknown) => {
      this.ensured = undefined;
      throw err;
    });
    await this.ensured;
    await batch.heartbeat();
    await this.index.apply(ops);
    this.indexed.add(ops.length);
  }
}
