import { executeBatched, type CassandraClient, type Statement } from './client.js';

type Outcome<T> = PromiseSettledResult<T>;

interface Waiting<In, Out> {
  input: In;
  resolve: (value: Out) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: inputs that arrive while a group is in flight leave together as the next group;
 * a lone input waits for nothing but the event loop's turn (so the callers woken by one I/O turn
 * share the first group). `run` answers each input of a group, in order.
 */
export class GroupCommit<In, Out> {
  private waiting: Array<Waiting<In, Out>> = [];
  private flushing = false;

  constructor(private readonly run: (inputs: readonly In[]) => Promise<ReadonlyArray<Outcome<Out>>>) {}

  submit(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.waiting.push({ input, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.waiting.length > 0) {
      const group = this.waiting;
      this.waiting = [];
      let outcomes: ReadonlyArray<Outcome<Out>>;
      try {
        outcomes = await this.run(group.map((w) => w.input));
      } catch (reason) {
        outcomes = group.map(() => ({ status: 'rejected', reason }));
      }
      group.forEach((w, i) => {
        const o = outcomes[i]!;
        if (o.status === 'fulfilled') w.resolve(o.value);
        else w.reject(o.reason);
      });
    }
    this.flushing = false;
  }
}

export interface GroupedWritesOptions {
  /** Statements per unlogged batch at most (Cassandra warns above unlogged_batch_across_partitions_warn_threshold). */
  maxStatements: number;
  /** Bytes per batch, roughly (under batch_size_fail_threshold, 50 KiB by default). */
  maxBytes: number;
}

/**
 * Writes that need no order among each other, grouped (GroupCommit) into as few unlogged batches
 * as the size limits allow. Cassandra's cost here is per request far more than per row
 * (docs/benchmarks.md, "the floor"), and with commitlog_sync: batch every request waits for its
 * own fsync. A write returns only once its group is stored, so callers order what must be ordered
 * themselves. A group that fails is tried again caller by caller: one caller's bad write never
 * fails the others.
 */
export class GroupedWrites {
  private readonly group: GroupCommit<readonly Statement[], void>;

  constructor(
    private readonly client: CassandraClient,
    private readonly options: GroupedWritesOptions,
  ) {
    this.group = new GroupCommit(async (writes) => {
      try {
        await this.execute(writes.flat());
        return writes.map(() => ({ status: 'fulfilled', value: undefined }));
      } catch (err) {
        if (writes.length === 1) throw err;
        return Promise.allSettled(writes.map((w) => this.execute(w)));
      }
    });
  }

  write(statements: readonly Statement[]): Promise<void> {
    return statements.length === 0 ? Promise.resolve() : this.group.submit(statements);
  }

  private execute(statements: readonly Statement[]): Promise<void> {
    return executeBatched(this.client, statements, this.options.maxStatements, this.options.maxBytes);
  }
}
