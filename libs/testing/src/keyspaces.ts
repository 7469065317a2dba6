import { CASSANDRA_SERVICES, connectCassandra, type CassandraClient } from '@im/platform/cassandra';
import { createLogger } from '@im/platform/logging';
import { createRegistry } from '@im/platform/registry';

/**
 * A Cassandra session with the infrastructure's admin login from `env` (.run/infra/env or the
 * test runner's), on `keyspace` if given, at LOCAL_ONE: for tests and tools that inspect or clean up.
 */
export function connectAdminCassandra(
  env: Record<string, string | undefined>,
  keyspace?: string,
): Promise<CassandraClient> {
  return connectCassandra({
    contactPoints: (env.CASSANDRA_CONTACT_POINTS ?? '127.0.0.1:9042').split(','),
    localDataCenter: env.CASSANDRA_LOCAL_DC ?? 'datacenter1',
    username: env.CASSANDRA_USERNAME,
    password: env.CASSANDRA_PASSWORD,
    ...(keyspace ? { keyspace } : {}),
    consistency: 'LOCAL_ONE',
    logger: createLogger('test-cassandra', 'silent'),
  });
}

/**
 * Drops the keyspaces of a name prefix's services. A Cassandra that keeps the thousands of tables
 * earlier suites made spends about twice the CPU per request (docs/benchmarks.md), which slows
 * every suite after them.
 */
export async function dropPrefixKeyspaces(
  env: Record<string, string | undefined>,
  prefix: string,
): Promise<void> {
  const client = await connectAdminCassandra(env);
  try {
    const names = createRegistry(prefix);
    for (const service of CASSANDRA_SERVICES)
      await client.execute(`DROP KEYSPACE IF EXISTS ${names.keyspace(service)}`, [], { prepare: false });
  } finally {
    await client.shutdown();
  }
}

/** What follows a prefix in its search index's name (the quick start's index is this without the dot). */
const SEARCH_INDEX_SUFFIX = `.${createRegistry('').indices.messages}`;

/** The base URL (with a trailing slash) and login of the infrastructure's OpenSearch, if any. */
function openSearch(env: Record<string, string | undefined>) {
  if (!env.OPENSEARCH_URL) return undefined;
  const headers: Record<string, string> = env.OPENSEARCH_USERNAME
    ? {
        authorization: `Basic ${Buffer.from(`${env.OPENSEARCH_USERNAME}:${env.OPENSEARCH_PASSWORD ?? ''}`).toString('base64')}`,
      }
    : {};
  return { base: env.OPENSEARCH_URL.replace(/\/?$/, '/'), headers };
}

/**
 * Deletes the search index of a name prefix (OpenSearch keeps a shard, its heap and its refresh
 * schedule for each index an earlier suite left behind). Missing is fine.
 */
export async function dropPrefixIndices(
  env: Record<string, string | undefined>,
  prefix: string,
): Promise<void> {
  if (!prefix) throw new Error('dropPrefixIndices needs a prefix (the quick start has none)');
  const os = openSearch(env);
  if (!os) return;
  const name = encodeURIComponent(createRegistry(prefix).indices.messages);
  // the index, and the template the message service puts under its name
  for (const path of [name, `_index_template/${name}`]) {
    const url = new URL(path, os.base);
    const res = await fetch(url, {
      method: 'DELETE',
      headers: os.headers,
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok && res.status !== 404) throw new Error(`deleting ${url.pathname}: HTTP ${res.status}`);
  }
}

/** The name prefixes that have a search index in the infrastructure's OpenSearch. */
export async function prefixesWithSearchIndex(env: Record<string, string | undefined>): Promise<string[]> {
  const os = openSearch(env);
  if (!os) return [];
  const res = await fetch(new URL(`_cat/indices/*${SEARCH_INDEX_SUFFIX}?h=index`, os.base), {
    headers: os.headers,
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`listing search indices: HTTP ${res.status}`);
  return (await res.text())
    .split('\n')
    .map((line) => line.trim())
    .filter((name) => name.endsWith(SEARCH_INDEX_SUFFIX))
    .map((name) => name.slice(0, -SEARCH_INDEX_SUFFIX.length))
    .filter((prefix) => /^[a-z0-9]+$/.test(prefix));
}
