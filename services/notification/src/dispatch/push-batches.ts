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
  /** Not before this time (a failed send waiting to be tried again, or a cooldown). */
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
  /** The partitions this member owns, once a rebalance said so. */
  private owned: ReadonlySet<number> | undefined;

  /** When the last message push of each (user, conversation) went out, for the cooldown. */
  private readonly lastSent = new Map<string, number>();

  /**
   * windowMs: a batch goes this long after its first message. cooldownMs: and not sooner than
   * this after the previous push of the same conversation to the same user (a busy conversation
   * then makes one push per cooldown with everything since, instead of one per window).
   */
  constructor(
    private readonly windowMs: number,
    private readonly cooldownMs = 0,
  ) {}

  get size(): number {
    return this.waiting.size + this.sending.size;
  }

  /** Batches not yet handed to a provider (what the consumer's backpressure counts). */
  get waitingCount(): number {
    return this.waiting.size;
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
    const cooledAt = (this.lastSent.get(key) ?? Number.NEGATIVE_INFINITY) + this.cooldownMs;
    this.waiting.set(key, {
      key,
      ...p,
      kind: 'messages',
      messages: [message],
      seq: message.seq,
      since: at,
      ...(cooledAt > at + this.windowMs ? { retryAt: cooledAt } : {}),
    });
    return true;
  }

  /** Whether a message push for the user in the conversation is waiting for its window. */
  isWaiting(userId: string, conversationId: string): boolean {
    return this.waiting.has(`m|${userId}|${conversationId}`);
  }

  /**
   * The user read up to `seq` (or wrote) in the conversation: waiting messages up to it need no
   * push any more; the batch goes when none is left.
   */
  seen(userId: string, conversationId: string, seq: number): void {
    const key = `m|${userId}|${conversationId}`;
    const entry = this.waiting.get(key);
    if (!entry) return;
    entry.messages = entry.messages.filter((m) => m.seq > seq);
    if (entry.messages.length === 0) this.waiting.delete(key);
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

  /** The entry went out (or had nothing to send) at `at`. */
  done(entry: PendingPush, at?: number): void {
    this.sending.delete(entry);
    if (entry.kind !== 'messages' || at === undefined || this.cooldownMs === 0) return;
    if (this.lastSent.size >= 200_000)
      for (const [k, t] of this.lastSent) if (t + this.cooldownMs < at) this.lastSent.delete(k);
    this.lastSent.set(entry.key, at);
  }

  /** A send failed (a store or service down): back to waiting until `at`, merged with newer items. */
  retry(entry: PendingPush, at: number): void {
    this.sending.delete(entry);
    if (this.owned && !this.owned.has(entry.partition)) return; // its new owner replays it
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
    this.owned = owned;
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
