import { LeanSocket } from '../lean-socket.js';
import { CpuMeter, LatencyHistogram, platformPids, type Percentiles } from '../metrics.js';
import { pool, registerUsers } from '../population.js';
import type { Env } from './setup.js';

export interface ReactionStormResult {
  members: number;
  targetChangesPerSec: number;
  acked: number;
  ackedPerSec: number;
  errors: Record<string, number>;
  ackLatencyMs: Percentiles;
  /** From a change's request to its message.updated at one observing member. */
  fanOutLatencyMs: Percentiles;
  /** message.updated frames each member got, min and max (every member should get every change). */
  updatesPerMember: { min: number; max: number };
  finalCountsMatch: boolean;
  cpuMsPerChange: { totalMsPerMessage: number; byProcess: Record<string, number> };
}

/**
 * A reaction storm on one hot message: `members` members of one group, all connected, toggle their
 * reaction (add, remove, add, …) at `rate` changes/s in all, for `duration` s. Measures the ack
 * latency, the fan-out latency to one observer, that every member received every change, and that
 * the final counts equal what the members did.
 */
export async function runReactionStorm(
  env: Env,
  opts: { members: number; rate: number; durationSec: number; emojis: number },
): Promise<ReactionStormResult> {
  const wsUrl = `${env.gatewayUrl.replace(/^http/, 'ws')}/v1/ws`;
  env.log(`registering ${opts.members} users`);
  const users = await registerUsers(env.gatewayUrl, opts.members, env.runId);
  const conv = await users[0]!.createConversation(
    'group',
    users.slice(1).map((u) => u.user.id),
    'storm',
  );
  const target = await users[0]!.sendMessage(conv.id, `storm-${env.runId}`, 'react to me');
  const sockets = await pool(users, 32, (u) => LeanSocket.connect(wsUrl, u.session!.accessToken));
  const emojis = ['👍', '🎉', '❤️', '😂', '🔥', '👀', '🚀', '✅'].slice(0, opts.emojis);
  const updates = sockets.map(() => 0);
  const requested = new Map<number, number>(); // version → request time
  const observedAt = new Map<number, number>(); // version → receipt time at the observer
  const fanOut = new LatencyHistogram();
  sockets.forEach((s, i) => {
    s.onUpdated = (m) => {
      if (m.seq !== target.seq) return;
      updates[i]!++;
      if (i !== 1) return;
      const sent = requested.get(m.version);
      if (sent !== undefined) fanOut.recordMs(performance.now() - sent);
      else observedAt.set(m.version, performance.now());
    };
  });
  const mine = users.map(() => new Set<string>());
  const acks = new LatencyHistogram();
  const errors: Record<string, number> = {};
  let acked = 0;
  const pids = platformPids();
  const cpu = new CpuMeter([...pids.keys()]);
  cpu.start();
  const start = performance.now();
  const total = opts.rate * opts.durationSec;
  const inFlight: Promise<void>[] = [];
  for (let n = 0; n < total; n++) {
    const due = start + (n * 1000) / opts.rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const i = n % sockets.length;
    const emoji = emojis[Math.floor(n / sockets.length) % emojis.length]!;
    const add = !mine[i]!.has(emoji);
    if (add) mine[i]!.add(emoji);
    else mine[i]!.delete(emoji);
    const sentAt = performance.now();
    inFlight.push(
      new Promise<void>((resolve) =>
        sockets[i]!.request(
          add ? 'reaction.add' : 'reaction.remove',
          { conversationId: conv.id, seq: target.seq, emoji },
          (ok, frame) => {
            if (ok) {
              acked++;
              acks.recordMs(performance.now() - sentAt);
              const version = (frame.message as { version: number }).version;
              const seen = observedAt.get(version);
              if (seen !== undefined) fanOut.recordMs(seen - sentAt);
              else requested.set(version, sentAt);
            } else errors[String(frame.code)] = (errors[String(frame.code)] ?? 0) + 1;
            resolve();
          },
        ),
      ),
    );
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - start) / 1000;
  const cpuPerChange = cpu.stop(acked, (p) => pids.get(p) ?? String(p));
  await new Promise((r) => setTimeout(r, 3_000)); // the last updates in flight
  const final = (await users[0]!.listMessages(conv.id, { afterSeq: target.seq - 1, limit: 1 })).messages[0]!;
  const expected = new Map(emojis.map((e) => [e, mine.filter((m) => m.has(e)).length]));
  const finalCountsMatch =
    final.reactions.every((r) => expected.get(r.emoji) === r.count) &&
    [...expected].filter(([, c]) => c > 0).length === final.reactions.length;
  sockets.forEach((s) => s.close());
  return {
    members: opts.members,
    targetChangesPerSec: opts.rate,
    acked,
    ackedPerSec: Math.round(acked / elapsed),
    errors,
    ackLatencyMs: acks.summary(),
    fanOutLatencyMs: fanOut.summary(),
    updatesPerMember: { min: Math.min(...updates), max: Math.max(...updates) },
    finalCountsMatch,
    cpuMsPerChange: cpuPerChange,
  };
}
