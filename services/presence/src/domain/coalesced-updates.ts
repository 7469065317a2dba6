/**
 * Changes to one record per key, coalesced: while a key's write is in flight, further changes
 * queue, and the next write applies all of them at once. A storm of 100 device changes for one
 * user becomes a handful of writes instead of 100 compare-and-sets racing (and retrying) each
 * other. Each caller's promise settles when the write carrying its change does.
 */
export class CoalescedUpdates<T> {
  private readonly queues = new Map<string, Array<Pending<T>>>();

  constructor(private readonly write: (key: string, changes: Array<(record: T) => void>) => Promise<void>) {}

  apply(key: string, change: (record: T) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const queued = this.queues.get(key);
      if (queued) return void queued.push({ change, resolve, reject });
      this.queues.set(key, []);
      void this.run(key, [{ change, resolve, reject }]);
    });
  }

  /** Keys with a write in flight (for tests and metrics). */
  get busyKeys(): number {
    return this.queues.size;
  }

  private async run(key: string, batch: Array<Pending<T>>): Promise<void> {
    for (;;) {
      try {
        await this.write(
          key,
          batch.map((p) => p.change),
        );
        for (const p of batch) p.resolve();
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
      const next = this.queues.get(key)!;
      if (next.length === 0) {
        this.queues.delete(key);
        return;
      }
      this.queues.set(key, []);
      batch = next;
    }
  }
}

interface Pending<T> {
  change: (record: T) => void;
  resolve: () => void;
  reject: (err: unknown) => void;
}
