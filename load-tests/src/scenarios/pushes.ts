import { LocalPushService } from '@im/testing';
import { LeanSocket } from '../lean-socket.js';
import { CpuMeter, LatencyHistogram, platformPids, type Percentiles } from '../metrics.js';
import { pool, registerUsers } from '../population.js';
import type { Env } from './setup.js';

/** 1 push in this many is decrypted and timed (each costs an ECDH on the machine under test). */
const SAMPLE_EVERY = 5;

export interface PushesResult {
  members: number;
  offline: number;
  targetPerSec: number;
  sent: number;
  pushes: number;
  pushesPerSec: number;
  /** From the send of the newest message a push names to the push reaching the push service. */
  newestToPushMs: Percentiles;
  /** From the send of the oldest message of the batch: includes the batching window by design. */
  oldestToPushMs: Percentiles;
  cpuMsPerPush: { totalMsPerMessage: number; byProcess: Record<string, number> };
}

/**
 * A group of `members` where a share is offline with a Web Push subscription on a local push
 * service, the rest connected; `rate` messages a second from a few connected senders. Pushes are
 * batched per (user, conversation) in the platform's window, so each offline member gets about one
 * push per window.
 */
export async function runPushes(
  env: Env,
  opts: { members: number; offlineShare: number; rate: number; durationSec: number; drainSec: number },
): Promise<PushesResult> {
  const pushService = new LocalPushService(SAMPLE_EVERY);
  await pushService.start();
  try {
    env.log(`registering ${opts.members} users`);
    const users = await registerUsers(env.gatewayUrl, opts.members, env.runId);
    const offlineCount = Math.round(opts.members * opts.offlineShare);
    const online = users.slice(0, opts.members - offlineCount);
    const offline = users.slice(opts.members - offlineCount);
    const conv = await users[0]!.createConversation(
      'group',
      users.slice(1).map((u) => u.user.id),
      'push bench',
    );
    env.log(`subscribing ${offline.length} offline members; connecting ${online.length}`);
    await pool(offline, 16, async (u) => {
      const sub = pushService.subscribe();
      await u.call('POST', '/v1/devices', {
        platform: 'webpush',
        subscription: { endpoint: sub.endpoint, keys: sub.keys },
      });
    });
    const wsUrl = `${env.gatewayUrl.replace(/^http/, 'ws')}/v1/ws`;
    const sockets = await pool(online, 32, (u) => LeanSocket.connect(wsUrl, u.session!.accessToken));
    await new Promise((r) => setTimeout(r, 2_000)); // presence has heard of every socket

    const senders = online.slice(0, Math.min(5, online.length));
    const sentAt = new Map<number, number>();
    const pids = platformPids();
    const cpu = new CpuMeter([...pids.keys()]);
    const acceptedBefore = pushService.accepted;
    cpu.start();
    const start = performance.now();
    const total = Math.round(opts.rate * opts.durationSec);
    const inFlight: Promise<void>[] = [];
    for (let n = 0; n < total; n++) {
      const wait = start + (n * 1000) / opts.rate - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const t0 = Date.now();
      inFlight.push(
        senders[n % senders.length]!.sendMessage(
          conv.id,
          `p-${env.runId}-${n}`,
          `push bench message ${n}`,
        ).then((m) => void sentAt.set(Number(m.seq), t0)),
      );
    }
    await Promise.all(inFlight);
    await new Promise((r) => setTimeout(r, opts.drainSec * 1_000));
    const pushes = pushService.accepted - acceptedBefore;
    const cpuMsPerPush = cpu.stop(pushes, (p) => pids.get(p) ?? String(p));
    const elapsedSec = (performance.now() - start) / 1000;

    const newest = new LatencyHistogram();
    const oldest = new LatencyHistogram();
    for (const p of pushService.received) {
      const seq = Number(p.payload.seq);
      const count = Number(p.payload.count);
      const last = sentAt.get(seq);
      const first = sentAt.get(seq - count + 1);
      if (last !== undefined) newest.recordMs(p.at - last);
      if (first !== undefined) oldest.recordMs(p.at - first);
    }
    for (const s of sockets) s.close();
    return {
      members: opts.members,
      offline: offline.length,
      targetPerSec: opts.rate,
      sent: sentAt.size,
      pushes,
      pushesPerSec: Math.round((pushes / elapsedSec) * 10) / 10,
      newestToPushMs: newest.summary(),
      oldestToPushMs: oldest.summary(),
      cpuMsPerPush,
    };
  } finally {
    await pushService.stop();
  }
}
