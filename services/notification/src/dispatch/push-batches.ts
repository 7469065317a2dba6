import type { BatchedMessage } from '../domain/push-content.js';

export interface PendingPush {
  key: string;
  tenantId: string;
  userId: string;
  conversationId: string;
  /** The Kafka partition of its events: dropped when the partition moves to another member. */
  partition: number;
  kind: 'messages' | 'badge';
  messages: BatchedMessage[];
  /** For a badge update: the seq read up to. */
  seq: number;
  /** When the first item arrived (the consumer's clock): the window runs from here. */
  since: number;
  /** Set after a failed send: not before this time. */
  retryAt?: number;
}

/**
 * Pushes waiting for their window, per (user, conversation), and those being sent. The oldest
 * `since` among them is the consumer's watermark: offsets of events handled before it are safe to
 * commit, everything after is replayed after a crash (and de-duplicated by event id).
 */
export class PushBatches {
  private readonly waiting = new Map<string, PendingPush>();
  private readonly sending = new Set<PendingPush>();

  constructor(private readonly windowMs: number) {}

  get size(): number {
    return this.waiting.size + this.sending.size;
  }

  /** True when it opened a new batch (the first message of a window). */
  addMessage(
    at: number,
    p: Pick<PendingPush, 'tenantId' | 'userId' | 'conversationId' | 'partition'>,
    message: BatchedMessage,
  ): boolean {
    const key = `m|${p.userId}|${p.conversationId}`;
    const entry = this.waiting.get(key);
    if (entry) {
      if (!entry.messages.some((m) => m.eventId === message.eventId)) entry.messages.push(message);
      return false;
    }
    this.waiting.set(key, { key, ...p, kind: 'messages', messages: [message], seq: message.seq, since: at });
    return true;
  }

  /** A read elsewhere: one silent badge update per window and conversation. */
  addBadge(
    at: number,
    p: Pick<PendingPush, 'tenantId' | 'userId' | 'conversationId' | 'partition'>,
    seq: number,
  ): void {
    const key = `b|${p.userId}|${p.conversationId}`;
    const entry = this.waiting.get(key);
    if (entry) entry.seq = Math.max(entry.seq, seq);
    else this.waiting.set(key, { key, ...p, kind: 'badge', messages: [], seq, since: at });
  }

  /** Takes the entries whose window has passed; they count as pending until done(). */
  takeDue(now: number): PendingPush[] {
    const due: PendingPush[] = [];
    for (const entry of this.waiting.values()) {
      if (now < (entry.retryAt ?? entry.since + this.windowMs)) continue;
      this.waiting.delete(entry.key);
      this.sending.add(entry);
      due.push(entry);
    }
    return due;
  }

  done(entry: PendingPush): void {
    this.sending.delete(entry);
  }

  /** A send failed (a store or service down): back to waiting until `at`, merged with newer items. */
  retry(entry: PendingPush, at: number): void {
    this.sending.delete(entry);
    const newer = this.waiting.get(entry.key);
    const messages = [...entry.messages];
    for (const m of newer?.messages ?? [])
      if (!messages.some((x) => x.eventId === m.eventId)) messages.push(m);
    this.waiting.set(entry.key, {
      ...entry,
      messages,
      seq: Math.max(entry.seq, newer?.seq ?? 0),
      retryAt: at,
    });
  }

  /**
   * After a rebalance: batches of partitions this member no longer owns are dropped (their new
   * owner replays the events from the last commit). Batches being sent finish.
   */
  keepPartitions(owned: ReadonlySet<number>): number {
    let dropped = 0;
    for (const [key, entry] of this.waiting)
      if (!owned.has(entry.partition)) {
        this.waiting.delete(key);
        dropped++;
      }
    return dropped;
  }

  /** The oldest `since` still waiting or being sent; undefined when nothing is. */
  oldest(): number | undefined {
    let min: number | undefined;
    for (const e of this.waiting.values()) if (min === undefined || e.since < min) min = e.since;
    for (const e of this.sending) if (min === undefined || e.since < min) min = e.since;
    return min;
  }
}
