import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { DelayedCommits } from './delayed-commits.js';

/** A handler's answer for a batch it did not process: leave it unresolved, it is fetched again. */
export const SKIP_BATCH = 'skip';

export interface ConsumedBatch {
  topic: string;
  partition: number;
  messages: readonly KafkaMessage[];
  /**
   * kafkajs: a seek was requested for this partition. It does not say the partition moved to
   * another member; what a stale member writes late is made harmless instead (ADR 0006).
   */
  isStale(): boolean;
  /**
   * stop() was called: a handler that waits (for room, say) should give the batch back
   * (SKIP_BATCH) rather than hold up the stop; the next owner handles it.
   */
  isStopping(): boolean;
  heartbeat(): Promise<void>;
}

export interface BatchConsumerOptions {
  groupId: string;
  topics: readonly string[];
  logger: Logger;
  /**
   * Processes a batch of one partition. Offsets are committed only after it resolves, so a crash
   * replays the batch (at-least-once). A throw makes kafkajs retry the batch: handle bad records
   * inside the handler instead of throwing for them. Returning SKIP_BATCH leaves the batch
   * unresolved: it is fetched and handled again.
   */
  handle(batch: ConsumedBatch): Promise<void | typeof SKIP_BATCH>;
  /** Called after every rebalance with the partitions this member now owns, per topic. */
  onAssignment?(assignment: Readonly<Record<string, readonly number[]>>): void;
  fromBeginning?: boolean;
  sessionTimeoutMs?: number;
  partitionsConsumedConcurrently?: number;
  /**
   * For consumers off the send path: the broker holds a fetch until this many bytes are waiting
   * or maxWaitMs passed (defaults: 1 byte, 100 ms). Each fetch costs both sides a round trip, so
   * at a steady rate a consumer that answers within a second or so fetches far less this way.
   */
  fetch?: { minBytes: number; maxWaitMs: number };
  /**
   * 0: commit what was handled, once a second (a crash or a rebalance replays up to that). Otherwise commit a batch's offsets only once the store has
   * acknowledged a write started at least this long after the batch (confirmStoreWrite), so a
   * store that loses its last moments of writes in a crash is covered by a replay (rewind()).
   */
  commitDelayMs?: number;
  /**
   * With commitDelayMs: a write the store acknowledges, made when handled batches wait for one
   * because nothing else is written (the traffic stopped), so that their offsets get committed.
   */
  probeStore?: () => Promise<void>;
}

/**
 * The fetch of consumers that may lag a moment behind the log (pushes, webhooks, the search
 * index): up to 250 ms later, in a fraction of the fetches.
 */
export const BACKGROUND_FETCH = { minBytes: 64 * 1024, maxWaitMs: 250 } as const;

/**
 * The fetch of consumers of rare records (media jobs): a record is fetched the moment it is there
 * (1 byte), and the broker holds an empty fetch for 5 s instead of answering ten times a second.
 */
export const RARE_RECORDS_FETCH = { minBytes: 1, maxWaitMs: 5_000 } as const;

const PROBE_RETRY_MS = 5_000;
const RESTART_FIRST_MS = 1_000;
const RESTART_MAX_MS = 30_000;
/**
 * Handled offsets are committed this often, every partition in one request (kafkajs's autoCommit
 * sends one after every partition's batch: tens of requests a second for a busy topic).
 */
const COMMIT_INTERVAL_MS = 1_000;

/** A consumer-group member that hands whole batches to a handler and commits after it. */
export class BatchConsumer {
  private consumer: Consumer;
  private assigned: Record<string, readonly number[]> = {};
  private running = false;
  /** Set by the first stop(): no batch is handled after it. */
  private stopped: Promise<void> | undefined;
  /** Batches being handled: a stop lets them finish and commits them. */
  private readonly handling = new Set<Promise<unknown>>();
  /** Offsets handled and not yet committed (with commitDelayMs, due once the store confirms). */
  private readonly commits: DelayedCommits;
  private readonly delaysCommits: boolean;
  private commitTimer: NodeJS.Timeout | undefined;
  private committing: Promise<void> | undefined;
  private probing: Promise<void> | undefined;
  /** After a failed probe, the next waits until then (the store is struggling; no need to add to it). */
  private probeAfter = 0;
  /**
   * Bumped when a rewind starts and again once its seeks are set: a batch handled across either
   * must not resolve its offsets.
   */
  private rewinds = 0;
  /** Set while a consumer that kafkajs gave up on waits to be replaced. */
  private replaceTimer: NodeJS.Timeout | undefined;
  /** Replacements since a batch was last handled: the backoff. */
  private crashes = 0;
  private replacing: Promise<void> | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: BatchConsumerOptions,
  ) {
    const delay = options.commitDelayMs ?? 0;
    this.delaysCommits = delay > 0;
    this.commits = new DelayedCommits(delay);
    this.consumer = this.createConsumer();
  }

  private createConsumer(): Consumer {
    const { options } = this;
    const consumer = this.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: 3_000,
      rebalanceTimeout: 60_000,
      maxWaitTimeInMs: options.fetch?.maxWaitMs ?? 100,
      minBytes: options.fetch?.minBytes ?? 1,
      maxBytesPerPartition: 2 * 1024 * 1024,
      allowAutoTopicCreation: false,
      retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      this.assigned = event.payload.memberAssignment as Record<string, readonly number[]>;
      // offsets of partitions handed to someone else must not be committed by this member
      this.commits.forget();
      options.logger.info({ group: options.groupId, assignment: this.assigned }, 'partitions assigned');
      options.onAssignment?.(this.assigned);
    });
    consumer.on(consumer.events.CRASH, (event) => {
      options.logger.error(
        { group: options.groupId, err: event.payload.error, restart: event.payload.restart },
        'consumer crashed',
      );
      // kafkajs gives up for good on an error it deems not retriable (a coordinator it could not
      // find while a restarted broker loads its offsets, say, or a bug in a handler)
      if (!event.payload.restart && consumer === this.consumer) this.scheduleReplace();
    });
    return consumer;
  }

  /** A new kafkajs consumer in place of one that gave up: after 1 s, then 2, 4… up to 30 s. */
  private scheduleReplace(): void {
    if (this.replaceTimer || this.stopped) return;
    this.running = false;
    const delay = Math.min(RESTART_MAX_MS, RESTART_FIRST_MS * 2 ** this.crashes++);
    this.replaceTimer = setTimeout(() => void this.replace(), delay);
  }

  private replace(): Promise<void> {
    this.replaceTimer = undefined;
    // stop() waits for it, and then disconnects whichever consumer it left
    this.replacing = this.replaceOnce().finally(() => (this.replacing = undefined));
    return this.replacing;
  }

  private async replaceOnce(): Promise<void> {
    if (this.stopped) return;
    const old = this.consumer;
    this.assigned = {};
    this.commits.forget();
    await old.disconnect().catch(() => undefined);
    if (this.stopped) return;
    const consumer = (this.consumer = this.createConsumer());
    try {
      await this.run();
      this.options.logger.warn({ group: this.options.groupId }, 'consumer replaced after a crash');
    } catch (err) {
      this.options.logger.warn({ err: String(err), group: this.options.groupId }, 'consumer restart failed');
      this.scheduleReplace();
    }
    this.markRunning(consumer);
  }

  /** Ready: unless the consumer crashed again meanwhile (kafkajs reports a failed join by a crash). */
  private markRunning(consumer: Consumer): void {
    if (this.consumer === consumer && !this.replaceTimer && !this.stopped) this.running = true;
  }

  get assignment(): Readonly<Record<string, readonly number[]>> {
    return this.assigned;
  }

  get isRunning(): boolean {
    return this.running;
  }

  async start(): Promise<void> {
    await this.run();
    this.commitTimer = setInterval(() => void this.commitDue(), COMMIT_INTERVAL_MS);
    this.commitTimer.unref();
    this.markRunning(this.consumer);
  }

  private async run(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: [...this.options.topics],
      fromBeginning: this.options.fromBeginning ?? true,
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isStale, isRunning }) => {
        // a batch fetched as the consumer stops is left to the next owner (nothing resolved)
        if (this.stopped || !isRunning() || isStale() || batch.messages.length === 0) return;
        const rewindsBefore = this.rewinds;
        const handled = this.options.handle({
          topic: batch.topic,
          partition: batch.partition,
          messages: batch.messages,
          isStale,
          isStopping: () => this.stopped !== undefined,
          heartbeat,
        });
        this.handling.add(handled);
        const result = await handled.finally(() => this.handling.delete(handled));
        // isStale() alone is not enough: it turns false again once a fetch has applied the seek
        if (result === SKIP_BATCH || isStale() || this.rewinds !== rewindsBefore) return;
        resolveOffset(batch.lastOffset());
        this.crashes = 0; // a replacement that handles batches is a healthy one: the backoff starts over
        this.commits.handled(batch.topic, batch.partition, batch.lastOffset());
        await heartbeat();
      },
    });
  }

  /** The time confirmStoreWrite() expects for a write about to start. */
  storeClock(): number {
    return this.delaysCommits ? this.commits.time() : 0;
  }

  /** The store acknowledged a write started at `startedAt` (storeClock()). */
  confirmStoreWrite(startedAt: number): void {
    if (this.delaysCommits) this.commits.confirmWrite(startedAt);
  }

  /**
   * The store went away and may come back without its latest writes: commit nothing more until
   * rewind() has replayed what was handled meanwhile.
   */
  holdCommits(): void {
    if (!this.delaysCommits) return;
    if (!this.commits.held)
      this.options.logger.warn({ group: this.options.groupId }, 'commits held until a rewind');
    this.commits.hold();
  }

  /**
   * Moves every owned partition back to its committed offset: what was handled since is handled
   * again (the handler must be idempotent). Releases the commits held before it started. Only with
   * delayed commits, the recovery of a store that lost writes (holdCommits).
   */
  async rewind(): Promise<void> {
    const commits = this.commits;
    if (!this.delaysCommits) throw new Error('rewind() needs commitDelayMs > 0');
    this.rewinds++;
    const token = commits.releaseToken();
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      const topics = Object.keys(this.assigned);
      const committed =
        topics.length > 0 ? await admin.fetchOffsets({ groupId: this.options.groupId, topics }) : [];
      // the assignment as it is now: seeking a partition handed away would replay it when it comes back
      for (const { topic, partitions } of committed) {
        const owned = new Set(this.assigned[topic] ?? []);
        for (const { partition, offset } of partitions) {
          if (owned.has(partition))
            this.consumer.seek({ topic, partition, offset: offset !== '-1' ? offset : '0' });
        }
      }
      this.rewinds++;
      commits.release(token);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private async commitDue({ probe } = { probe: true }): Promise<void> {
    const commits = this.commits;
    // without a store to wait for, whatever was handled is due
    if (!this.delaysCommits) commits.confirmWrite(commits.time());
    if (
      probe &&
      this.options.probeStore &&
      !this.probing &&
      Date.now() >= this.probeAfter &&
      commits.awaitsWrite()
    )
      this.probing = this.probe(commits, this.options.probeStore).finally(() => (this.probing = undefined));
    if (this.committing) return;
    const due = commits.takeDue();
    if (due.length === 0) return;
    this.committing = this.consumer
      .commitOffsets(due)
      .catch((err: unknown) =>
        // a rebalance took the partitions (their new owner replays from the last commit): harmless
        this.options.logger.warn({ err: String(err), group: this.options.groupId }, 'offset commit failed'),
      )
      .finally(() => (this.committing = undefined));
    await this.committing;
  }

  /** Nothing was written since the last batches: a write of our own confirms the store (next tick commits). */
  private async probe(commits: DelayedCommits, probeStore: () => Promise<void>): Promise<void> {
    const startedAt = commits.time();
    try {
      await probeStore();
      commits.confirmWrite(startedAt);
    } catch (err) {
      this.probeAfter = Date.now() + PROBE_RETRY_MS;
      this.options.logger.warn({ err: String(err), group: this.options.groupId }, 'store probe failed');
    }
  }

  /** Stops consuming (once: a second call waits for the first). */
  stop(): Promise<void> {
    this.stopped ??= this.stopOnce();
    return this.stopped;
  }

  private async stopOnce(): Promise<void> {
    this.running = false;
    clearInterval(this.commitTimer);
    clearTimeout(this.replaceTimer);
    await this.replacing;
    // no more fetches meanwhile (they would come back unhandled, again and again)
    try {
      this.consumer.pause(this.options.topics.map((topic) => ({ topic })));
    } catch {
      // never started (kafkajs pauses only a running consumer)
    }
    // batches being handled finish and are committed with what was handled since the last tick
    await Promise.allSettled([...this.handling]);
    await new Promise((r) => setImmediate(r)); // their offsets are recorded after the handler
    await this.probing;
    await this.committing;
    await this.commitDue({ probe: false });
    await this.consumer.disconnect();
  }
}
