import { Partitioners, type IHeaders, type Kafka, type Producer, type TopicMessages } from 'kafkajs';

export interface OutgoingRecord {
  topic: string;
  key: string;
  value: Buffer;
  headers?: IHeaders;
}

export interface BatchingProducerOptions {
  /** Most records in one produce request. */
  maxBatchRecords?: number;
  /** Most value bytes in one produce request (the broker's limit is 1 MiB by default). */
  maxBatchBytes?: number;
  /**
   * A request unanswered for this long means the brokers are unreachable: from then until it
   * completes, new records are refused at once (LogUnavailableError) instead of queueing.
   */
  stallAfterMs?: number;
  /** Most records waiting at once; beyond, new ones are refused (memory stays bounded). */
  maxQueuedRecords?: number;
  /**
   * A record that arrives less than this long after the last request started waits until then,
   * with whatever else arrives meanwhile (Kafka's linger.ms, applied only while records keep
   * coming: after a quiet spell a record leaves at once).
   */
  lingerMs?: number;
}

/** The log cannot take records now (brokers unreachable, or too much queued): retry later. */
export class LogUnavailableError extends Error {
  constructor(reason: string) {
    super(`the message log is unavailable: ${reason}`);
    this.name = 'LogUnavailableError';
  }
}

interface Pending {
  record: OutgoingRecord;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * An idempotent (acks=all) producer that batches by itself: a record sent while a request is in
 * flight waits for it and goes out with everything else that queued up meanwhile. At low load a
 * record leaves at once; under load requests grow instead of queueing one round trip per record,
 * which matters because the idempotent producer keeps one request in flight per broker. While
 * records keep coming, a request leaves at most every lingerMs (each one costs the broker and this
 * process far more than a record in it: docs/benchmarks.md).
 *
 * send() resolves only when the broker has the record on all in-sync replicas.
 */
export class BatchingProducer {
  private producer: Producer;
  /** A new producer (new id, sequences from zero) connects before its first request. */
  private connectFirst = false;
  private queue: Pending[] = [];
  private inFlight = false;
  private closed = false;
  private readonly maxRecords: number;
  private readonly maxBytes: number;
  private readonly stallAfterMs: number;
  private readonly maxQueued: number;
  /**
   * When the first request since the last answered one started: during an outage each request
   * fails after kafkajs's connection retries, and the next, sent at once, must not count as fresh.
   */
  private unansweredSince: number | undefined;
  private failedAt = 0;
  private readonly lingerMs: number;
  /** performance.now() when the last produce request left. */
  private lastRequestAt = -Infinity;
  /** Batches sent so far (one produce request per broker that leads a partition in it). */
  requests = 0;
  /** Callers of sendMany({ waitForRoom }) waiting for the queue to shrink. */
  private roomWaiters: Array<() => void> = [];

  constructor(
    private readonly kafka: Kafka,
    options: BatchingProducerOptions = {},
  ) {
    this.producer = this.newProducer();
    this.maxRecords = options.maxBatchRecords ?? 1_000;
    this.maxBytes = options.maxBatchBytes ?? 900 * 1024;
    this.stallAfterMs = options.stallAfterMs ?? 2_000;
    this.maxQueued = options.maxQueuedRecords ?? 20_000;
    this.lingerMs = options.lingerMs ?? 0;
  }

  private newProducer(): Producer {
    return this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // murmur2 by key, like the Java client: a conversation's commands land on one partition
      createPartitioner: Partitioners.DefaultPartitioner,
      // the idempotent producer must not give up on a batch (a later retry would break sequence
      // numbers); callers bound their own wait (SEND_TIMEOUT_MS) and tell the client to retry
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 5_000 },
    });
  }

  /**
   * After a failed batch, a new producer id. The broker may no longer take this producer's
   * sequence numbers (seen after a broker's kill -9: a batch it wrote without answering, retried
   * once it was back, is neither the next sequence nor one it remembers), and kafkajs never resets
   * them, so every later batch would be refused the same way; or, worse, kafkajs took back the
   * failed batch's sequence numbers although the broker had written it, and would drop the next
   * batch of as many records as its duplicate. The failed records were answered with an error;
   * their senders retry, and the sequencer's claims (and event ids) make a copy harmless.
   */
  private async renewProducer(): Promise<void> {
    const old = this.producer;
    this.producer = this.newProducer();
    this.connectFirst = true;
    await old.disconnect().catch(() => undefined);
  }

  /** True while produce requests have gone unanswered for longer than stallAfterMs. */
  get stalled(): boolean {
    return (
      this.inFlight &&
      this.unansweredSince !== undefined &&
      Date.now() - this.unansweredSince > this.stallAfterMs
    );
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  /**
   * Sends several records. With waitForRoom, a full queue or a slow broker makes the caller wait
   * (up to maxWaitMs) instead of refusing the records: for a consumer that produces what it
   * consumed (the sequencer's events), where waiting is backpressure and refusing would only make
   * it redo its batch, adding load exactly when the broker is slow.
   */
  async sendMany(
    records: readonly OutgoingRecord[],
    options: { waitForRoom?: boolean; maxWaitMs?: number } = {},
  ): Promise<void> {
    if (!options.waitForRoom) {
      await Promise.all(records.map((r) => this.send(r)));
      return;
    }
    const deadline = Date.now() + (options.maxWaitMs ?? 30_000);
    while (
      !this.closed &&
      (this.stalled || (this.queue.length > 0 && this.queue.length + records.length > this.maxQueued))
    ) {
      if (Date.now() >= deadline)
        throw new LogUnavailableError(
          this.stalled
            ? `no answer from the brokers for ${this.stallAfterMs} ms`
            : `${this.maxQueued} records already waiting`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(1_000, deadline - Date.now()));
        this.roomWaiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
    await Promise.all(records.map((r) => this.enqueue(r)));
  }

  send(record: OutgoingRecord): Promise<void> {
    if (this.stalled)
      return Promise.reject(
        new LogUnavailableError(`no answer from the brokers for ${this.stallAfterMs} ms`),
      );
    if (this.queue.length >= this.maxQueued)
      return Promise.reject(new LogUnavailableError(`${this.maxQueued} records already waiting`));
    return this.enqueue(record);
  }

  private enqueue(record: OutgoingRecord): Promise<void> {
    if (this.closed) return Promise.reject(new Error('producer is closed'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      if (!this.inFlight) {
        this.inFlight = true;
        void this.flush();
      }
    });
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        // within lingerMs of the last request: wait, and take whatever arrives meanwhile along
        const wait = this.lastRequestAt + this.lingerMs - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        // a request sent within stallAfterMs of a failed one carries on its wait; after a quiet
        // spell (or a refusal long ago) it starts afresh
        if (this.unansweredSince === undefined || Date.now() - this.failedAt > this.stallAfterMs)
          this.unansweredSince = Date.now();
        this.lastRequestAt = performance.now();
        this.requests++;
        const batch = this.takeBatch();
        try {
          if (this.connectFirst) {
            await this.producer.connect();
            this.connectFirst = false;
          }
          await this.producer.sendBatch({ acks: -1, topicMessages: groupByTopic(batch) });
          this.unansweredSince = undefined;
          for (const p of batch) p.resolve();
        } catch (err) {
          for (const p of batch) p.reject(err);
          // kafkajs took back the batch's sequence numbers: a batch the broker wrote without
          // answering would make it drop the next one of as many records as a duplicate
          await this.renewProducer();
          this.failedAt = Date.now();
        }
        const waiters = this.roomWaiters;
        this.roomWaiters = [];
        for (const w of waiters) w();
      }
    } catch (err) {
      // only a record that cannot be sized or grouped gets here: nobody may wait on a stopped loop
      for (const p of this.queue.splice(0)) p.reject(err);
    } finally {
      this.inFlight = false;
    }
  }

  private takeBatch(): Pending[] {
    let bytes = 0;
    let n = 0;
    while (n < this.queue.length && n < this.maxRecords) {
      const size = this.queue[n]!.record.value.length + this.queue[n]!.record.key.length;
      if (n > 0 && bytes + size > this.maxBytes) break;
      bytes += size;
      n++;
    }
    return this.queue.splice(0, n);
  }

  /** Waits for queued records, then disconnects. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.roomWaiters.splice(0)) w();
    while (this.inFlight || this.queue.length > 0) await new Promise((r) => setTimeout(r, 10));
    await this.producer.disconnect();
  }
}

function groupByTopic(batch: readonly Pending[]): TopicMessages[] {
  const byTopic = new Map<string, TopicMessages>();
  for (const { record } of batch) {
    let entry = byTopic.get(record.topic);
    if (!entry) {
      entry = { topic: record.topic, messages: [] };
      byTopic.set(record.topic, entry);
    }
    entry.messages.push({ key: record.key, value: record.value, headers: record.headers });
  }
  return [...byTopic.values()];
}
