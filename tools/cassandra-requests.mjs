#!/usr/bin/env node
// What Cassandra did per table, from its own counters (system_views.{local,coordinator}_{read,write}_latency):
// a snapshot before a run, then the difference per message. Tables are named without the run's
// keyspace prefix (<prefix>_im_message.messages → message.messages). Needs the build (npx im-tsc -b)
// and the infrastructure's env (.run/infra/env: CASSANDRA_CONTACT_POINTS and the admin login).
//   node tools/cassandra-requests.mjs > /tmp/before.json
//   bash load-tests/warm-runs.sh 500                      # 400 msg/s × 15 s, then 500 × 10 s
//   node tools/cassandra-requests.mjs --since /tmp/before.json --messages 11000
// Coordinator counts are requests (a grouped write counts once per table it touches); local counts
// are partitions read or mutations applied.
import { readFileSync } from 'node:fs';
import { connectAdminCassandra } from '../libs/testing/dist/src/keyspaces.js';

const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const VIEWS = ['coordinator_read', 'coordinator_write', 'local_read', 'local_write', 'coordinator_scan'];

const client = await connectAdminCassandra(process.env);
const now = {};
try {
  for (const view of VIEWS) {
    const rows = (
      await client.execute(`SELECT keyspace_name, table_name, count FROM system_views.${view}_latency`)
    ).rows;
    for (const r of rows) {
      if (r.keyspace_name.startsWith('system')) continue;
      const table = `${r.keyspace_name.replace(/^.*?im_/, '')}.${r.table_name}`;
      const key = `${view} ${table}`;
      now[key] = (now[key] ?? 0) + Number(r.count);
    }
  }
} finally {
  await client.shutdown();
}

const since = arg('--since');
if (!since) {
  console.log(JSON.stringify(now));
} else {
  const before = JSON.parse(readFileSync(since, 'utf8'));
  const messages = Number(arg('--messages') ?? 1);
  const rows = Object.entries(now)
    .map(([key, n]) => [key, n - (before[key] ?? 0)])
    .filter(([, d]) => d > 0)
    .sort((a, b) => b[1] - a[1]);
  console.log(`per message (of ${messages}), largest first:`);
  for (const [key, d] of rows)
    console.log(`${(d / messages).toFixed(3).padStart(8)}  ${String(d).padStart(8)}  ${key}`);
}
