import { performance } from 'node:perf_hooks';

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: string;
}

interface Handled {
  /** The offset to commit: the batch's last offset + 1. */
  offset: string;
  /** When the batch was handled (monotonic ms). */
  at: number;
}

/**
 * Which handled offsets may be committed, for a consumer whose store can lose its most recent
 * writes (a Cassandra node with periodic commit-log sync loses up to one sync window in a crash).
 *
 * A batch's offset becomes due only when the store has acknowledged a write that *started* at
 * least `windowMs` after the batch was handled: a live node that accepts writes has synced what
 * it had that long before (Cassandra blocks writes once its sync lags 1.5 periods behind). Until
 * then a crash of the store is covered by replaying from the committed offset. hold() stops every
 * commit until release(): the store went down and what was handled since the last commit must be
 * replayed first.
 */
export class DelayedCommits {
  private readonly pending = new Map<string, Handled[]>();
  private confirmedAt = Number.NEGATIVE_INFINITY;
  private holds = 0;
  private isHeld = false;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get held(): boolean {
    return this.isHeld;
  }

  /** A batch of topic/partition up to lastOffset was handled. */
  handled(topic: string, partition: number, lastOffset: string): void {
    const key = `${topic}/${partition}`;
    let list = this.pending.get(key);
    if (!list) this.pending.set(key, (list = []));
    list.push({ offset: (BigInt(lastOffset) + 1n).toString(), at: this.now() });
  }

  /** The store acknowledged a write that started at `startedAt` (a time from the same clock). */
  confirmWrite(startedAt: number): void {
    if (startedAt > this.confirmedAt) this.confirmedAt = startedAt;
  }

  /** The clock confirmWrite() expects. */
  time(): number {
    return this.now();
  }

  hold(): void {
    this.holds++;
    this.isHeld = true;
  }

  /**
   * Starts a release: call before replaying; pass the token to release() once the replay is set
   * up. A hold() in between keeps commits held (its outage needs a replay of its own).
   */
  releaseToken(): number {
    return this.holds;
  }

  /** Forgets every pending offset (replayed, or the partitions were reassigned). */
  forget(): void {
    this.pending.clear();
  }

  release(token: number): void {
    this.forget();
    if (this.holds === token) this.isHeld = false;
  }

  /**
   * Whether an offset waits for nothing but a write: its batch was handled a window ago or more,
   * and no acknowledged write started since then. A store that is written no more (the traffic
   * stopped) would keep it pending for ever, and a restart would replay it.
   */
  awaitsWrite(): boolean {
    if (this.held) return false;
    const now = this.now();
    for (const [oldest] of this.pending.values())
      if (oldest && oldest.at + this.windowMs <= now && this.confirmedAt < oldest.at + this.windowMs)
        return true;
    return false;
  }

  /** Takes the offsets that may be committed now, per partition the newest due one. */
  takeDue(): TopicPartitionOffset[] {
    if (this.held) return [];
    const cutoff = this.confirmedAt - this.windowMs;
    const due: TopicPartitionOffset[] = [];
    for (const [key, list] of this.pending) {
      let last: Handled | undefined;
      while (list.length > 0 && list[0]!.at <= cutoff) last = list.shift();
      if (!last) continue;
      const slash = key.lastIndexOf('/');
      due.push({ topic: key.slice(0, slash), partition: Number(key.slice(slash + 1)), offset: last.offset });
    }
    return due;
  }
}
