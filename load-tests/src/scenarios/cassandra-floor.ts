import cassandra from 'cassandra-driver';
import { CpuMeter, findPids } from '../metrics.js';

export interface FloorStep {
  requestsPerSec: number;
  statementsPerRequest: number;
  mutations: number;
  cassandraCores: number;
  cassandraMsPerMutation: number;
}

/**
 * What the local Cassandra node costs in CPU at a steady request rate, independent of the
 * platform: paced inserts of 100-byte rows, one statement per request or unlogged batches of
 * several, into a scratch keyspace. It shows the per-request (wake-up) cost that dominates the
 * node's CPU at the platform's everyday rates (docs/benchmarks.md).
 */
export async function runCassandraFloor(opts: {
  contactPoint: string;
  shapes: ReadonlyArray<{ requestsPerSec: number; statementsPerRequest: number }>;
  durationSec: number;
  log: (msg: string) => void;
}): Promise<FloorStep[]> {
  const pid = findPids('im-local-cassandra')[0];
  if (!pid) throw new Error('no local Cassandra (deploy/local/infra.sh up)');
  const user = process.env.CASSANDRA_USERNAME;
  const db = new cassandra.Client({
    contactPoints: [opts.contactPoint],
    localDataCenter: 'datacenter1',
    ...(user ? { credentials: { username: user, password: process.env.CASSANDRA_PASSWORD ?? '' } } : {}),
  });
  await db.connect();
  try {
    await db.execute(
      "CREATE KEYSPACE IF NOT EXISTS load_floor WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
    );
    await db.execute(
      'CREATE TABLE IF NOT EXISTS load_floor.rows (k text, c int, v text, PRIMARY KEY (k, c))',
    );
    const insert = 'INSERT INTO load_floor.rows (k, c, v) VALUES (?, ?, ?)';
    const text = 'x'.repeat(100);
    let key = 0;
    const steps: FloorStep[] = [];
    for (const [i, shape] of [opts.shapes[0]!, ...opts.shapes].entries()) {
      const pending: Promise<unknown>[] = [];
      const meter = new CpuMeter([pid]);
      meter.start();
      const start = Date.now();
      const total = shape.requestsPerSec * opts.durationSec;
      for (let n = 0; n < total; n++) {
        const rows = Array.from({ length: shape.statementsPerRequest }, (_, c) => ({
          query: insert,
          params: [`k${key++}`, c, text],
        }));
        pending.push(
          rows.length === 1
            ? db.execute(insert, rows[0]!.params, { prepare: true })
            : db.batch(rows, { prepare: true, logged: false }),
        );
        const due = start + ((n + 1) * 1000) / shape.requestsPerSec;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      }
      await Promise.all(pending);
      const mutations = total * shape.statementsPerRequest;
      const perMutation = meter.stop(mutations, () => 'cassandra').totalMsPerMessage;
      const step = {
        ...shape,
        mutations,
        cassandraCores: Math.round(((perMutation * mutations) / (Date.now() - start || 1)) * 100) / 100,
        cassandraMsPerMutation: perMutation,
      };
      if (i === 0) continue; // the first shape once more as a warm-up, not reported
      opts.log(
        `${shape.requestsPerSec} requests/s × ${shape.statementsPerRequest}: ${step.cassandraCores} cores, ${perMutation} ms per row`,
      );
      steps.push(step);
    }
    return steps;
  } finally {
    await db.shutdown();
  }
}
