import { LatencyHistogram, type Percentiles } from './metrics.js';
import type { LeanSocket } from './lean-socket.js';

export interface Participant {
  userId: string;
  socket: LeanSocket;
}

export interface Lane {
  sender: Participant;
  conversationId: string;
}

export interface TrafficOptions {
  runId: string;
  /** conversation → every member's socket (one socket per member). */
  members: Map<string, Participant[]>;
  /** Who sends where; used round-robin. */
  lanes: Lane[];
  ratePerSec: number;
  durationSec: number;
  /** Size of each message's text (the send time is embedded in it). */
  textBytes?: number;
  /** How long to wait for late acks and deliveries after the last send. */
  graceMs?: number;
}

export interface TrafficResult {
  targetRatePerSec: number;
  durationSec: number;
  sent: number;
  acked: number;
  errors: Record<string, number>;
  expectedDeliveries: number;
  delivered: number;
  duplicates: number;
  lost: number;
  sentPerSec: number;
  deliveredPerSec: number;
  /** send → ack (durable: in Kafka and sequenced) */
  ackLatencyMs: Percentiles;
  /** send → message.new at another member's socket */
  receiveLatencyMs: Percentiles;
}

/**
 * Open-loop traffic: every 2 ms it sends however many messages the target rate says are due, so a
 * slow platform shows up as latency and backlog, not as a lower rate the generator chose itself.
 * Latency is measured in this process on one monotonic clock: the send time travels in the text.
 */
export async function runTraffic(o: TrafficOptions): Promise<TrafficResult> {
  const ack = new LatencyHistogram();
  const receive = new LatencyHistogram();
  const errors: Record<string, number> = {};
  let sent = 0;
  let acked = 0;
  let delivered = 0;
  let duplicates = 0;
  let expected = 0;
  const seen = new Map<LeanSocket, Set<string>>();
  const pad = 'x'.repeat(Math.max(0, (o.textBytes ?? 64) - 24));

  for (const participants of o.members.values()) {
    for (const p of participants) {
      if (seen.has(p.socket)) continue;
      const mine = new Set<string>();
      seen.set(p.socket, mine);
      p.socket.onMessage = (m) => {
        if (m.senderId === p.userId) return; // echo to the sender's own device
        const key = `${m.conversationId}:${m.seq}`;
        if (mine.has(key)) {
          duplicates++;
          return;
        }
        mine.add(key);
        delivered++;
        const t = Number(/^t=([\d.]+);/.exec(m.text)?.[1]);
        if (Number.isFinite(t)) receive.recordMs(performance.now() - t);
      };
    }
  }

  const start = performance.now();
  const endAt = start + o.durationSec * 1000;
  let lane = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.floor(((Math.min(now, endAt) - start) * o.ratePerSec) / 1000) - sent;
      for (let i = 0; i < due; i++) {
        const l = o.lanes[lane++ % o.lanes.length]!;
        const t0 = performance.now();
        const n = sent++;
        const recipients = o.members.get(l.conversationId)!.length - 1;
        l.sender.socket.request(
          'message.send',
          {
            conversationId: l.conversationId,
            clientMsgId: `${o.runId}-${n}`,
            text: `t=${t0.toFixed(3)};${pad}`,
          },
          (ok, frame) => {
            if (ok) {
              acked++;
              expected += recipients;
              ack.recordMs(performance.now() - t0);
            } else {
              const code = String(frame.code ?? 'unknown');
              errors[code] = (errors[code] ?? 0) + 1;
            }
          },
        );
      }
      if (now >= endAt) resolve();
      else setTimeout(tick, 2);
    };
    tick();
  });
  const sendDuration = (performance.now() - start) / 1000;

  // late acks, then late deliveries
  const graceUntil = performance.now() + (o.graceMs ?? 10_000);
  while (acked + sum(errors) < sent && performance.now() < graceUntil) await sleep(20);
  while (delivered < expected && performance.now() < graceUntil) await sleep(20);

  return {
    targetRatePerSec: o.ratePerSec,
    durationSec: Math.round(sendDuration * 10) / 10,
    sent,
    acked,
    errors,
    expectedDeliveries: expected,
    delivered,
    duplicates,
    lost: Math.max(0, expected - delivered),
    sentPerSec: Math.round(acked / sendDuration),
    deliveredPerSec: Math.round(delivered / sendDuration),
    ackLatencyMs: ack.summary(),
    receiveLatencyMs: receive.summary(),
  };
}

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
