import type { ImClient } from '@im/sdk';
import { LeanSocket } from '../lean-socket.js';
import { CpuMeter, platformPids } from '../metrics.js';
import { pool, registerUsers } from '../population.js';
import type { Env } from './setup.js';

export interface PresenceStormOptions {
  users: number;
  /** Sockets per user, all opened at once (at most the gateway's WS_MAX_SOCKETS_PER_USER). */
  devices: number;
  /** How long to watch CPU after each storm has settled. */
  quietSec: number;
  /** How long to wait for presence to be right before calling it wrong. */
  settleLimitSec: number;
}

export interface PresenceStormResult {
  users: number;
  devicesPerUser: number;
  sockets: number;
  /** First socket opened → every user reads online over REST. */
  connectStormCorrectMs: number | null;
  /** All sockets closed at once → every user reads offline (includes the offline grace, 5 s by default). */
  dropStormCorrectMs: number | null;
  /** Presence reads (REST) that failed while waiting (timeouts of a presence service under the storm). */
  failedPresenceReads: number;
  /** CPU over each storm, in core-seconds per process. */
  cpuConnectStormSec: Record<string, number>;
  cpuDropStormSec: Record<string, number>;
  /** Cores busy after the drop storm settled, with no client connected (should be ~0). */
  coresAfterStorm: Record<string, number>;
}

/**
 * The connection storm of issue #13: `users` × `devices` sockets opened through one gateway within
 * seconds, then all dropped at once. Measures how long until presence is right again (polled over
 * REST by an extra user of the same tenant) and what CPU the storm leaves behind.
 */
export async function runPresenceStorm(env: Env, o: PresenceStormOptions): Promise<PresenceStormResult> {
  env.log(`registering ${o.users} users and an observer`);
  const [observer, ...users] = await registerUsers(env.gatewayUrl, o.users + 1, env.runId);
  const ws = `${env.gatewayUrl.replace(/^http/, 'ws')}/v1/ws`;
  const ids = users.map((u) => u.user.id);
  let failedReads = 0;
  const processes = platformPids();
  const label = (p: number) => processes.get(p) ?? String(p);
  const coreSeconds = (cpu: CpuMeter) => {
    const { byProcess } = cpu.stop(1, label); // ms of CPU per "message" = in total
    return Object.fromEntries(Object.entries(byProcess).map(([k, ms]) => [k, +(ms / 1000).toFixed(2)]));
  };
  /** Milliseconds until every user reads `status`; null if not within settleLimitSec. */
  const untilAll = async (status: 'online' | 'offline', since: number): Promise<number | null> => {
    for (;;) {
      // a presence service busy with the storm may not answer in time: that counts, and we ask again
      const presence = await (observer as ImClient).presence(ids).then(
        (r) => r.presence,
        () => (failedReads++, undefined),
      );
      if (presence && presence.length === ids.length && presence.every((p) => p.status === status))
        return Math.round(performance.now() - since);
      if (performance.now() - since > o.settleLimitSec * 1000) {
        env.log(`presence not all ${status} after ${o.settleLimitSec} s`);
        return null;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  env.log(`connection storm: ${o.users} users × ${o.devices} sockets`);
  let cpu = new CpuMeter([...processes.keys()]);
  cpu.start();
  const t0 = performance.now();
  const sockets = await pool(
    users.flatMap((u) => Array.from({ length: o.devices }, () => u)),
    200,
    (u) => LeanSocket.connect(ws, u.session!.accessToken),
  );
  const connectStormCorrectMs = await untilAll('online', t0);
  const cpuConnectStormSec = coreSeconds(cpu);

  env.log('drop storm: every socket closed at once');
  cpu = new CpuMeter([...processes.keys()]);
  cpu.start();
  const t1 = performance.now();
  for (const s of sockets) s.close();
  const dropStormCorrectMs = await untilAll('offline', t1);
  const cpuDropStormSec = coreSeconds(cpu);

  env.log(`watching CPU for ${o.quietSec} s with nobody connected`);
  cpu = new CpuMeter([...processes.keys()]);
  cpu.start();
  await new Promise((r) => setTimeout(r, o.quietSec * 1000));
  const after = coreSeconds(cpu);
  return {
    users: o.users,
    devicesPerUser: o.devices,
    sockets: sockets.length,
    connectStormCorrectMs,
    dropStormCorrectMs,
    failedPresenceReads: failedReads,
    cpuConnectStormSec,
    cpuDropStormSec,
    coresAfterStorm: Object.fromEntries(
      Object.entries(after).map(([k, s]) => [k, +(s / o.quietSec).toFixed(3)]),
    ),
  };
}
