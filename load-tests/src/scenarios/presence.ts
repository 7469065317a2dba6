import type { ImClient } from '@im/sdk';
import { LeanSocket } from '../lean-socket.js';
import { LatencyHistogram, type Percentiles } from '../metrics.js';
import { pool, registerUsers } from '../population.js';
import type { Env } from './setup.js';

export interface PresenceOptions {
  users: number;
  /** Each user watches this many others (presence.subscribe). */
  watches: number;
  /** Disconnects per second (each user comes back `downSec` later). */
  churnPerSec: number;
  downSec: number;
  durationSec: number;
}

export interface PresenceResult {
  users: number;
  watchesPerUser: number;
  churnPerSec: number;
  disconnects: number;
  presenceFramesReceived: number;
  presenceFramesPerSec: number;
  /** Disconnect → first watcher gets "offline" (includes the presence service's offline grace). */
  offlineSeenMs: Percentiles;
  /** Reconnect → first watcher gets "online". */
  onlineSeenMs: Percentiles;
  missedOffline: number;
}

/**
 * Users with churn: every user watches `watches` random others; `churnPerSec` random users drop
 * their socket and reconnect `downSec` later. Measures what watchers see and when.
 */
export async function runPresence(env: Env, o: PresenceOptions): Promise<PresenceResult> {
  env.log(`registering ${o.users} users`);
  const users = await registerUsers(env.gatewayUrl, o.users, env.runId);
  const ws = `${env.gatewayUrl.replace(/^http/, 'ws')}/v1/ws`;
  const watchersOf = new Map<string, number[]>();
  const plan = users.map((_, i) => {
    const targets = new Set<number>();
    while (targets.size < Math.min(o.watches, o.users - 1)) {
      const t = Math.floor(Math.random() * o.users);
      if (t !== i) targets.add(t);
    }
    for (const t of targets)
      watchersOf.set(users[t]!.user.id, [...(watchersOf.get(users[t]!.user.id) ?? []), i]);
    return [...targets].map((t) => users[t]!.user.id);
  });

  const offlineSeen = new LatencyHistogram();
  const onlineSeen = new LatencyHistogram();
  const downAt = new Map<string, number>();
  const upAt = new Map<string, number>();
  let frames = 0;
  const sockets: Array<LeanSocket | undefined> = new Array(o.users);

  const connect = async (i: number, client: ImClient) => {
    const s = await LeanSocket.connect(ws, client.session!.accessToken);
    s.onPresence = (userId, status) => {
      frames++;
      const now = performance.now();
      if (status === 'offline' && downAt.has(userId)) {
        offlineSeen.recordMs(now - downAt.get(userId)!);
        downAt.delete(userId);
      } else if (status === 'online' && upAt.has(userId)) {
        onlineSeen.recordMs(now - upAt.get(userId)!);
        upAt.delete(userId);
      }
    };
    await s.ask('presence.subscribe', { userIds: plan[i] });
    sockets[i] = s;
  };

  env.log(`connecting ${o.users} users, each watching ${o.watches}`);
  await pool(users, 32, (u, i) => connect(i, u));
  await new Promise((r) => setTimeout(r, 3_000)); // let the initial online wave pass
  frames = 0;

  env.log(`churn: ${o.churnPerSec} disconnects/s for ${o.durationSec} s`);
  let disconnects = 0;
  const start = performance.now();
  const end = start + o.durationSec * 1000;
  const pending: Promise<void>[] = [];
  while (performance.now() < end) {
    const due = Math.floor(((performance.now() - start) * o.churnPerSec) / 1000) - disconnects;
    for (let n = 0; n < due; n++) {
      const i = Math.floor(Math.random() * o.users);
      const s = sockets[i];
      const id = users[i]!.user.id;
      if (!s || downAt.has(id) || !watchersOf.has(id)) continue;
      sockets[i] = undefined;
      disconnects++;
      downAt.set(id, performance.now());
      s.close();
      pending.push(
        new Promise<void>((r) => setTimeout(r, o.downSec * 1000)).then(async () => {
          upAt.set(id, performance.now());
          await connect(i, users[i]!);
        }),
      );
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  await Promise.all(pending);
  await new Promise((r) => setTimeout(r, 10_000));
  const elapsed = (performance.now() - start) / 1000;
  for (const s of sockets) s?.close();
  return {
    users: o.users,
    watchesPerUser: o.watches,
    churnPerSec: o.churnPerSec,
    disconnects,
    presenceFramesReceived: frames,
    presenceFramesPerSec: Math.round(frames / elapsed),
    offlineSeenMs: offlineSeen.summary(),
    onlineSeenMs: onlineSeen.summary(),
    missedOffline: downAt.size,
  };
}
