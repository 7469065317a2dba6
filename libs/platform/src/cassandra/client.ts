import cassandra from 'cassandra-driver';
import pLimit from 'p-limit';
import type { Logger } from 'pino';

export type CassandraClient = cassandra.Client;
export const { types: cql } = cassandra;

export type Consistency = 'LOCAL_ONE' | 'LOCAL_QUORUM' | 'QUORUM' | 'ONE' | 'ALL';

export interface CassandraOptions {
  contactPoints: readonly string[];
  localDataCenter: string;
  username?: string | undefined;
  password?: string | undefined;
  consistency?: Consistency;
  logger: Logger;
  keyspace?: string;
  /** Requests in flight at most; more wait their turn (default 1024). */
  maxInFlight?: number;
}

/**
 * The driver refuses a request outright (BusyConnectionError) once every pooled connection holds
 * 2048 in flight, which a burst of parallel reads reaches easily: a sequencer catching up on a
 * backlog of thousands of sends fails its batch again and again. This client queues requests above
 * a bound instead, for every caller of the process at once.
 */
class BoundedClient extends cassandra.Client {
  private readonly limit: ReturnType<typeof pLimit>;

  constructor(options: cassandra.DseClientOptions, maxInFlight: number) {
    super(options);
    this.limit = pLimit(maxInFlight);
  }

  override execute(
    query: string,
    params?: unknown,
    options?: cassandra.QueryOptions,
  ): Promise<cassandra.types.ResultSet>;
  override execute(...args: unknown[]): never;
  override execute(...args: unknown[]): Promise<cassandra.types.ResultSet> {
    return this.limit(() =>
      (super.execute as (...a: unknown[]) => Promise<cassandra.types.ResultSet>)(...args),
    );
  }

  override batch(
    queries: Array<string | { query: string; params?: unknown }>,
    options?: cassandra.QueryOptions,
  ): Promise<cassandra.types.ResultSet>;
  override batch(...args: unknown[]): never;
  override batch(...args: unknown[]): Promise<cassandra.types.ResultSet> {
    return this.limit(() =>
      (super.batch as (...a: unknown[]) => Promise<cassandra.types.ResultSet>)(...args),
    );
  }
}

/**
 * A client with prepared statements by default, token-aware routing to the local DC (the
 * driver's default load-balancing policy) and the configured consistency for every query.
 */
export async function connectCassandra(options: CassandraOptions): Promise<CassandraClient> {
  const client = new BoundedClient(
    {
      contactPoints: [...options.contactPoints],
      localDataCenter: options.localDataCenter,
      keyspace: options.keyspace,
      credentials:
        options.username !== undefined
          ? { username: options.username, password: options.password ?? '' }
          : undefined,
      queryOptions: {
        prepare: true,
        consistency:
          cassandra.types.consistencies[toDriverConsistency(options.consistency ?? 'LOCAL_QUORUM')],
      },
      socketOptions: { connectTimeout: 3_000, readTimeout: 12_000 },
      // an idle connection is checked every 5 s (the driver's default is 30 s): a node that vanished
      // without a reset (power loss) is noticed within about 5 s + readTimeout, inside the window
      // after which the sequencer counts a write as confirming older ones (ADR 0006)
      pooling: { coreConnectionsPerHost: { [cassandra.types.distance.local]: 2 }, heartBeatInterval: 5_000 },
      protocolOptions: { maxSchemaAgreementWaitSeconds: 20 },
      // the driver's default backs off to 10 minutes between attempts: a node restarted after a
      // minute down would stay unused for minutes more (every request NoHostAvailable meanwhile)
      policies: {
        reconnection: new cassandra.policies.reconnection.ExponentialReconnectionPolicy(500, 5_000, false),
      },
    },
    options.maxInFlight ?? 1024,
  );
  client.on('log', (level, _className, message) => {
    if (level === 'error') options.logger.error({ cassandra: true }, message);
    else if (level === 'warning') options.logger.warn({ cassandra: true }, message);
  });
  await client.connect();
  return client;
}

function toDriverConsistency(c: Consistency): keyof typeof cassandra.types.consistencies {
  const map = {
    LOCAL_ONE: 'localOne',
    LOCAL_QUORUM: 'localQuorum',
    QUORUM: 'quorum',
    ONE: 'one',
    ALL: 'all',
  } as const;
  return map[c];
}

/** "3" → SimpleStrategy RF 3; "dc1:3,dc2:2" → NetworkTopologyStrategy. */
export function replicationClause(spec: string): string {
  if (/^\d+$/.test(spec)) return `{'class': 'SimpleStrategy', 'replication_factor': ${spec}}`;
  const dcs = spec.split(',').map((part) => {
    const [dc, rf] = part.split(':');
    return `'${dc}': ${Number(rf)}`;
  });
  return `{'class': 'NetworkTopologyStrategy', ${dcs.join(', ')}}`;
}

const KEYSPACE_NAME = /^[a-z][a-z0-9_]{0,47}$/;

export async function ensureKeyspace(
  client: CassandraClient,
  keyspace: string,
  replication: string,
): Promise<void> {
  if (!KEYSPACE_NAME.test(keyspace)) throw new Error(`invalid keyspace name "${keyspace}"`);
  // a service's own role may use its keyspace but not create keyspaces (ADR 0024), and Cassandra
  // checks that right before IF NOT EXISTS: look first
  const existing = await client.execute(
    'SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = ?',
    [keyspace],
    { prepare: true },
  );
  if (existing.rowLength > 0) return;
  await client.execute(
    `CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = ${replicationClause(replication)}`,
    [],
    { prepare: false },
  );
}

export type Row = cassandra.types.Row;

/** Every row of a query, fetched page by page (the driver's paging state), as an async iterator. */
export async function* allRows(
  client: CassandraClient,
  query: string,
  params: unknown[],
  fetchSize = 1000,
): AsyncGenerator<Row> {
  let pageState: string | undefined;
  do {
    const rs = await client.execute(query, params, { prepare: true, fetchSize, pageState });
    yield* rs.rows;
    pageState = rs.pageState;
  } while (pageState);
}

export interface Statement {
  query: string;
  params: unknown[];
}

/**
 * Executes statements as unlogged batches of at most maxStatements / roughly maxBytes each (under
 * Cassandra's batch_size_fail_threshold of 50 KiB, and, at the default of 10, within its default 10-partition warning threshold). Unlogged: no atomicity across partitions, just
 * one request instead of many; callers order what must be ordered with separate calls.
 */
export async function executeBatched(
  client: CassandraClient,
  statements: readonly Statement[],
  maxStatements = 10,
  maxBytes = 40_000,
): Promise<void> {
  if (statements.length === 1) {
    await client.execute(statements[0]!.query, statements[0]!.params, { prepare: true });
    return;
  }
  const chunks: Statement[][] = [];
  let chunk: Statement[] = [];
  let bytes = 0;
  for (const s of statements) {
    const size = approximateBytes(s.params);
    if (chunk.length > 0 && (chunk.length >= maxStatements || bytes + size > maxBytes)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(s);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  await Promise.all(chunks.map((c) => client.batch(c, { prepare: true, logged: false })));
}

function approximateBytes(params: readonly unknown[]): number {
  let n = 16;
  for (const p of params) {
    if (typeof p === 'string') n += Buffer.byteLength(p) + 4;
    else if (Buffer.isBuffer(p)) n += p.length + 4;
    else n += 12;
  }
  return n;
}
