import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Message } from '@im/proto/client/v1';
import { ApiError, ConversationLog, ImClient, ImSocket } from '@im/sdk';
import { eventually, type Platform, type ServiceProcess } from '@im/testing';
import { retrying } from './retry.js';
import { registerUsers } from './users.js';

const RETRYABLE = new Set(['unavailable', 'timeout', 'rate_limited', 'http_error', 'connection_closed']);

interface Pair {
  conversationId: string;
  sender: ImClient;
  receiver: ImClient;
  /** Every socket the receiver had (a killed gateway takes one with it): all they were sent. */
  sockets: ImSocket[];
}

export interface LoadReport {
  sent: number;
  acked: number;
  /** Error codes seen (and retried) while sending, with how many carried a retryAfterMs. */
  errors: Map<string, { count: number; withRetryHint: number }>;
  /** The longest a send took until acked, in ms. */
  slowestMs: number;
}

/**
 * Steady load for fault tests: `pairs` direct conversations, one sender and one connected receiver
 * each, `ratePerSec` sends over REST spread over the live gateways. Each send is retried with its
 * clientMsgId, waiting retryAfterMs when the server gives one, until acknowledged, as a careful
 * client would. verify() then checks the guarantees for every conversation.
 */
export class SteadyLoad {
  private readonly acked = new Map<string, { pair: Pair; message: Message }>();
  private readonly errors = new Map<string, { count: number; withRetryHint: number }>();
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private sent = 0;
  private slowestMs = 0;
  private gatewayTurn = 0;

  private constructor(
    private readonly platform: Platform,
    private readonly pairs: Pair[],
    private readonly gateways: ServiceProcess[] | undefined,
  ) {}

  static async start(
    platform: Platform,
    {
      pairs = 20,
      ratePerSec = Number(process.env.FAULT_LOAD_RATE ?? 300),
      maxInFlight = 600,
      /** Only these gateways (default: every live one of the platform). */
      gateways = undefined as ServiceProcess[] | undefined,
    } = {},
  ): Promise<SteadyLoad> {
    // right after a fault the platform may still be reconnecting: set up as a client would, retrying
    const users = await retrying(() => registerUsers(platform, pairs * 2, 'load'));
    const made: Pair[] = [];
    for (let i = 0; i < pairs; i++) {
      const sender = users[2 * i]!;
      const receiver = users[2 * i + 1]!;
      const conv = await retrying(() => sender.createConversation('direct', [receiver.user.id]));
      made.push({ conversationId: conv.id, sender, receiver, sockets: [] });
    }
    const load = new SteadyLoad(platform, made, gateways);
    await Promise.all(made.map((p) => load.ensureConnected(p)));
    const perTick = ratePerSec / 100;
    let due = 0;
    load.timer = setInterval(() => {
      due += perTick;
      // a client with this many sends unconfirmed waits instead of piling up more
      for (; due >= 1; due--) if (load.inFlight.size < maxInFlight) load.sendOne();
    }, 10);
    return load;
  }

  /** Stops sending new messages; those in flight carry on. */
  pause(): void {
    clearInterval(this.timer);
  }

  /** Stops sending and waits until every send in flight is acknowledged (or failed for good). */
  async stop(): Promise<LoadReport> {
    this.pause();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    return { sent: this.sent, acked: this.acked.size, errors: this.errors, slowestMs: this.slowestMs };
  }

  /**
   * Every acknowledged message is in history exactly once with its seq, seqs are dense, and each
   * receiver converges (live delivery, then sync) within `convergeMs`.
   */
  async verify(convergeMs = 30_000): Promise<void> {
    for (const pair of this.pairs) {
      const acked = [...this.acked.values()].filter((a) => a.pair === pair).map((a) => a.message);
      const history = await this.withLiveGateway(pair.receiver, (c) => c.allMessages(pair.conversationId));
      assert.deepEqual(
        history.map((m) => m.seq),
        Array.from({ length: history.length }, (_, i) => i + 1),
        `${pair.conversationId}: seqs are dense`,
      );
      assert.equal(
        new Set(history.map((m) => m.clientMsgId)).size,
        history.length,
        'no clientMsgId stored twice',
      );
      const bySeq = new Map(history.map((m) => [m.seq, m]));
      for (const m of acked) {
        const stored = bySeq.get(m.seq);
        assert.ok(stored, `acked seq ${m.seq} is in history`);
        assert.equal(stored.id, m.id, `seq ${m.seq} holds the acknowledged message`);
      }
      assert.equal(history.length, acked.length, 'nothing stored that was not acknowledged');
    }
    await eventually(
      async () => {
        for (const pair of this.pairs) await this.converge(pair);
      },
      { timeoutMs: convergeMs, intervalMs: 500, what: 'every receiver has every message' },
    );
  }

  /** Every conversation's last_seq (what unread counts and history are cut at) is its last message. */
  async verifyLastSeqs(): Promise<void> {
    for (const pair of this.pairs) {
      const expected = [...this.acked.values()].filter((a) => a.pair === pair).length;
      const conv = await this.withLiveGateway(pair.sender, (c) => c.getConversation(pair.conversationId));
      assert.equal(conv.lastSeq, expected, `${pair.conversationId}: last_seq never moved back`);
    }
  }

  private async converge(pair: Pair): Promise<void> {
    const socket = await this.ensureConnected(pair);
    const log = new ConversationLog();
    for (const s of pair.sockets) {
      for (const m of s.messagesOf(pair.conversationId)) {
        const known = log.messages(pair.conversationId).find((x) => x.seq === m.seq);
        if (known) assert.equal(known.id, m.id, `seq ${m.seq} was delivered as two different messages`);
        log.add(m);
      }
    }
    const expected = [...this.acked.values()].filter((a) => a.pair === pair).length;
    while (log.contiguousUpTo(pair.conversationId) < expected) {
      const ack = await socket.sync(
        [{ conversationId: pair.conversationId, afterSeq: log.contiguousUpTo(pair.conversationId) }],
        500,
      );
      const got = ack.conversations[0]?.messages ?? [];
      if (got.length === 0) break;
      for (const m of got) log.add(m);
    }
    assert.equal(log.contiguousUpTo(pair.conversationId), expected, `${pair.conversationId} converged`);
  }

  private async ensureConnected(pair: Pair): Promise<ImSocket> {
    const open = pair.sockets.find((s) => s.isOpen);
    if (open) return open;
    const socket = await this.withLiveGateway(pair.receiver, (c) => c.connect());
    pair.sockets.push(socket);
    return socket;
  }

  private sendOne(): void {
    const pair = this.pairs[this.sent % this.pairs.length]!;
    const clientMsgId = `load-${this.sent}-${randomUUID()}`;
    const text = `m${this.sent}`;
    this.sent++;
    const t0 = Date.now();
    const p = this.withLiveGateway(pair.sender, (c) => c.sendMessage(pair.conversationId, clientMsgId, text))
      .then((message) => {
        this.acked.set(clientMsgId, { pair, message });
        this.slowestMs = Math.max(this.slowestMs, Date.now() - t0);
      })
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  /** Runs a call through a live gateway, moving on to another one and retrying when it fails. */
  private async withLiveGateway<T>(client: ImClient, call: (c: ImClient) => Promise<T>): Promise<T> {
    // a client retries for as long as an outage lasts; the budget covers a Cassandra restart plus
    // the sequencer's replay on a busy 2-core CI machine (measured up to ~2 min there)
    const giveUp = Date.now() + 240_000;
    for (;;) {
      const live = (this.gateways ?? this.platform.gateways).filter((g) => g.running);
      const gw = live[this.gatewayTurn++ % live.length]!;
      const via = new ImClient(`http://${gw.address('publicPort')}`, client.tenant);
      via.session = client.session;
      try {
        return await call(via);
      } catch (err) {
        const code = err instanceof ApiError ? err.code : 'network';
        if (err instanceof ApiError && !RETRYABLE.has(err.code)) throw err;
        if (Date.now() > giveUp) throw err;
        const seen = this.errors.get(code) ?? { count: 0, withRetryHint: 0 };
        seen.count++;
        if (err instanceof ApiError && err.retryAfterMs !== undefined) seen.withRetryHint++;
        this.errors.set(code, seen);
        await new Promise((r) => setTimeout(r, (err instanceof ApiError && err.retryAfterMs) || 200));
      }
    }
  }
}
