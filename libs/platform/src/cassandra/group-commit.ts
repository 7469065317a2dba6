import cassandra from 'cassandra-driver';
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
    try {
      while (this.waiting.length > 0) {
        const group = this.waiting;
        this.waiting = [];
        await this.settle(group);
      }
    } finally {
      this.flushing = false;
      // only if settle() itself threw: nobody may wait on a loop that stopped
      if (this.waiting.length > 0) {
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    }
  }

  private async settle(group: ReadonlyArray<Waiting<In, Out>>): Promise<void> {
    let outcomes: ReadonlyArray<Outcome<Out>>;
    try {
      outcomes = await this.run(group.map((w) => w.input));
      if (outcomes.length !== group.length)
        throw new Error('a group commit answered the wrong number of inputs');
    } catch (reason) {
      outcomes = group.map(() => ({ status: 'rejected', reason }));
    }
    group.forEach((w, i) => {
      const o = outcomes[i]!; // as many as the group: checked above
      if (o.status === 'fulfilled') w.resolve(o.value);
      else w.reject(o.reason);
    });
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
 * themselves. A group refused for what it holds (a bad statement) is tried again caller by caller,
 * so one caller's bad write never fails the others; a group that failed because Cassandra is down,
 * slow or overloaded fails every caller at once, and they retry as they would any write.
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
        if (writes.length === 1 || isOutage(err)) throw err;
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

const { responseErrorCodes: codes } = cassandra.types;
const OUTAGE_CODES: ReadonlySet<number> = new Set([
  codes.unavailableException,
  codes.overloaded,
  codes.isBootstrapping,
  codes.writeTimeout,
  codes.readTimeout,
  codes.writeFailure,
  codes.readFailure,
]);

/** Cassandra down, slow or overloaded: nothing about the request itself. */
function isOutage(err: unknown): boolean {
  const e = cassandra.errors;
  // the driver's "Socket was closed" (a node died with the request in flight) is a plain DriverError
  if ((err as { isSocketError?: unknown } | null)?.isSocketError === true) return true;
  if (
    err instanceof e.NoHostAvailableError ||
    err instanceof e.OperationTimedOutError ||
    err instanceof e.BusyConnectionError
  )
    return true;
  return err instanceof e.ResponseError && OUTAGE_CODES.has(err.code);
}
