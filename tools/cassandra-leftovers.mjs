#!/usr/bin/env node
// Keyspaces left in the local Cassandra by test suites and benchmarks. A Cassandra that holds
// thousands of tables spends about twice the CPU per request (docs/benchmarks.md), so benchmarks
// report the count first. Needs the build (npx im-tsc -b) and the infrastructure's env
// (.run/infra/env: CASSANDRA_CONTACT_POINTS and the admin login).
//   node tools/cassandra-leftovers.mjs --count           "<tables> tables in <keyspaces> keyspaces"
//   node tools/cassandra-leftovers.mjs --drop-prefix P   drops the keyspaces of name prefix P
//   node tools/cassandra-leftovers.mjs --drop-prefixed [--matching REGEX] [--keep P,...]
//       drops the service keyspaces (<prefix>_im_<service>) of every prefix the REGEX matches
//       (default: all) but ownroles (the roles suite's, made by infra.sh) and those kept; the
//       quick start's im_* stay
// Dropping a prefix's keyspaces drops its search index too (OPENSEARCH_URL, when set).
import {
  connectAdminCassandra,
  dropPrefixIndices,
  dropPrefixKeyspaces,
  prefixesWithSearchIndex,
} from '../libs/testing/dist/src/keyspaces.js';

const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const env = process.env;

async function withClient(fn) {
  const client = await connectAdminCassandra(env);
  try {
    return await fn(client);
  } finally {
    await client.shutdown();
  }
}

if (process.argv.includes('--count')) {
  await withClient(async (c) => {
    // COUNT(*), not rowLength: that is the first page alone (5 000 rows)
    const count = async (table) =>
      Number((await c.execute(`SELECT COUNT(*) FROM system_schema.${table}`)).first().get(0));
    const keyspaces = await count('keyspaces');
    const tables = await count('tables');
    console.log(`${tables} tables in ${keyspaces} keyspaces`);
  });
} else if (arg('--drop-prefix')) {
  await dropPrefixKeyspaces(env, arg('--drop-prefix'));
  await dropPrefixIndices(env, arg('--drop-prefix'));
} else if (process.argv.includes('--drop-prefixed')) {
  const keep = new Set(['ownroles', ...(arg('--keep') ?? '').split(',').filter(Boolean)]);
  const matching = new RegExp(arg('--matching') ?? '.');
  await withClient(async (c) => {
    // one page of all of them (the default page is 5 000 rows)
    const all = await c.execute('SELECT keyspace_name FROM system_schema.keyspaces', [], {
      fetchSize: 1_000_000,
    });
    const names = all.rows.map((r) => String(r.get('keyspace_name')));
    const prefixed = names.filter((k) => {
      const prefix = /^([a-z0-9]+)_im_[a-z]+$/.exec(k)?.[1];
      return prefix !== undefined && matching.test(prefix) && !keep.has(prefix);
    });
    for (const k of prefixed) await c.execute(`DROP KEYSPACE IF EXISTS ${k}`, [], { prepare: false });
    // the search indices of those prefixes, and of prefixes whose keyspaces went before
    const prefixes = new Set(prefixed.map((k) => k.slice(0, k.indexOf('_im_'))));
    for (const p of await prefixesWithSearchIndex(env).catch(() => []))
      if (matching.test(p) && !keep.has(p)) prefixes.add(p);
    for (const p of prefixes) await dropPrefixIndices(env, p);
    console.log(`dropped ${prefixed.length} keyspaces and the search indices of ${prefixes.size} prefixes`);
  });
} else {
  console.error(
    'usage: node tools/cassandra-leftovers.mjs --count | --drop-prefix P | --drop-prefixed [--matching REGEX] [--keep P,...]',
  );
  process.exit(64);
}
