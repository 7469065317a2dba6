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
  /**
   * Commit a batch's offsets only this long after it was handled (0: right after). What the
   * handler wrote is then replayed after a crash or rewind() even if the store lost the last
   * moments of writes (a Cassandra node with periodic commit-log sync loses up to its period).
   */
  commitDelayMs?: number;
}

interface Handled {
  offset: string;
  at: number;
}

/** A consumer-group member that hands whole batches to a handler and commits after it. */
export class BatchConsumer {
  private readonly consumer: Consumer;
  private assigned: Record<string, readonly number[]> = {};
  private running = false;
  /** Offsets handled but not committed yet, by "topic/partition", oldest first. */
  private readonly uncommitted = new Map<string, Handled[]>();
  private commitTimer: NodeJS.Timeout | undefined;
  /** Set by holdCommits(): nothing is committed until rewind(). */
  private held = false;

  constructor(
    private readonly kafka: Kafka,
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
      // offsets of partitions handed to someone else must not be committed by this member
      this.uncommitted.clear();
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
    const delay = this.options.commitDelayMs ?? 0;
    await this.consumer.run({
      autoCommit: delay === 0,
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
        if (delay === 0) await commitOffsetsIfNecessary();
        else this.handled(batch.topic, batch.partition, batch.lastOffset());
        await heartbeat();
      },
    });
    if (delay > 0) {
      this.commitTimer = setInterval(() => void this.commitDelayed(delay), Math.min(1_000, delay));
      this.commitTimer.unref();
    }
    this.running = true;
  }

  /**
   * The store went away and may come back without its latest writes: commit nothing more until
   * rewind() has replayed what was handled meanwhile. Without this, the delayed commits of
   * batches handled before the outage would go out during it, and their replay would be skipped.
   */
  holdCommits(): void {
    if (!this.held) this.options.logger.warn({ group: this.options.groupId }, 'commits held until a rewind');
    this.held = true;
  }

  /**
   * Moves every owned partition back to its committed offset: what was handled since is handled
   * again (the handler must be idempotent). For a store that may have lost recent writes.
   */
  async rewind(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      for (const [topic, partitions] of Object.entries(this.assigned)) {
        const committed = await admin.fetchOffsets({ groupId: this.options.groupId, topics: [topic] });
        const offsets = new Map(committed[0]?.partitions.map((p) => [p.partition, p.offset]) ?? []);
        for (const partition of partitions) {
          const offset = offsets.get(partition);
          this.consumer.seek({ topic, partition, offset: offset && offset !== '-1' ? offset : '0' });
        }
      }
      this.uncommitted.clear();
      this.held = false;
    } finally {
      await admin.disconnect();
    }
  }

  private handled(topic: string, partition: number, lastOffset: string): void {
    const key = `${topic}/${partition}`;
    let list = this.uncommitted.get(key);
    if (!list) this.uncommitted.set(key, (list = []));
    list.push({ offset: (BigInt(lastOffset) + 1n).toString(), at: Date.now() });
  }

  private async commitDelayed(delay: number): Promise<void> {
    if (this.held) return;
    const due: Array<{ topic: string; partition: number; offset: string }> = [];
    const cutoff = Date.now() - delay;
    for (const [key, list] of this.uncommitted) {
      let last: Handled | undefined;
      while (list.length > 0 && list[0]!.at <= cutoff) last = list.shift();
      if (!last) continue;
      const slash = key.lastIndexOf('/');
      due.push({ topic: key.slice(0, slash), partition: Number(key.slice(slash + 1)), offset: last.offset });
    }
    if (due.length === 0) return;
    try {
      await this.consumer.commitOffsets(due);
    } catch (err) {
      // a rebalance took the partitions (their new owner replays from the last commit): harmless
      this.options.logger.warn({ err: String(err), group: this.options.groupId }, 'delayed commit failed');
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.commitTimer);
    await this.consumer.disconnect();
  }
}
