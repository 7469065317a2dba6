import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';

export interface ConsumedBatch {
  topic: string;
  partition: number;
  messages: readonly KafkaMessage[];
  /**
   * kafkajs: a seek was requested for this partition. It does not say the partition moved to
   * another member; what a stale member writes late is made harmless instead (ADR 0006).
   */
  isStale(): boolean;
  heartbeat(): Promise<void>;
}

export interface BatchConsumerOptions {
  groupId: string;
  topics: readonly string[];
  logger: Logger;
  /**
   * Processes a batch of one partition. Offsets are committed only after it resolves, so a crash
   * replays the batch (at-least-once). A throw makes kafkajs retry the batch: handle bad records
   * inside the handler instead of throwing for them.
   */
  handle(batch: ConsumedBatch): Promise<void>;
  /** Called after every rebalance with the partitions this member now owns, per topic. */
  onAssignment?(assignment: Readonly<Record<string, readonly number[]>>): void;
  fromBeginning?: boolean;
  sessionTimeoutMs?: number;
  partitionsConsumedConcurrently?: number;
}

/** A consumer-group member that hands whole batches to a handler and commits after it. */
export class BatchConsumer {
  private readonly consumer: Consumer;
  private assigned: Record<string, readonly number[]> = {};
  private running = false;

  constructor(
    kafka: Kafka,
    private readonly options: BatchConsumerOptions,
  ) {
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: 3_000,
      rebalanceTimeout: 60_000,
      maxWaitTimeInMs: 100,
      minBytes: 1,
      maxBytesPerPartition: 2 * 1024 * 1024,
      allowAutoTopicCreation: false,
      retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => {
      this.assigned = event.payload.memberAssignment as Record<string, readonly number[]>;
      options.logger.info({ group: options.groupId, assignment: this.assigned }, 'partitions assigned');
      options.onAssignment?.(this.assigned);
    });
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      options.logger.error(
        { group: options.groupId, err: event.payload.error, restart: event.payload.restart },
        'consumer crashed',
      );
    });
  }

  get assignment(): Readonly<Record<string, readonly number[]>> {
    return this.assigned;
  }

  get isRunning(): boolean {
    return this.running;
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: [...this.options.topics],
      fromBeginning: this.options.fromBeginning ?? true,
    });
    await this.consumer.run({
      autoCommit: true,
      autoCommitInterval: 1_000,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
      eachBatch: async ({
        batch,
        resolveOffset,
        heartbeat,
        commitOffsetsIfNecessary,
        isStale,
        isRunning,
      }) => {
        if (!isRunning() || isStale() || batch.messages.length === 0) return;
        await this.options.handle({
          topic: batch.topic,
          partition: batch.partition,
          messages: batch.messages,
          isStale,
          heartbeat,
        });
        if (isStale()) return;
        resolveOffset(batch.lastOffset());
        await commitOffsetsIfNecessary();
        await heartbeat();
      },
    });
    this.running = true;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.consumer.disconnect();
  }
}
