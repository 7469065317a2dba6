import type { Message } from '@im/proto/client/v1';
import { backoffDelay, hintedDelay, type BackoffOptions } from './backoff.js';
import { Emitter } from './emitter.js';
import { ApiError } from './errors.js';

/** A message the user sent that the server has not acknowledged yet. */
export interface OutboxEntry {
  /** The idempotency key: every retry carries the same one, so the server stores it once. */
  clientMsgId: string;
  conversationId: string;
  text: string;
  replyTo?: number;
  mentions?: string[];
  attachments?: Array<{ mediaId: string }>;
  /** Epoch ms when the user sent it (for the optimistic echo). */
  createdAt: number;
}

/** Where unsent messages wait, so they survive a page reload or a process restart. */
export interface OutboxStorage {
  load(): OutboxEntry[] | Promise<OutboxEntry[]>;
  save(entries: OutboxEntry[]): void | Promise<void>;
}

export class MemoryOutboxStorage implements OutboxStorage {
  private entries: OutboxEntry[] = [];
  load(): OutboxEntry[] {
    return [...this.entries];
  }
  save(entries: OutboxEntry[]): void {
    this.entries = [...entries];
  }
}

/** localStorage / sessionStorage (or anything with getItem/setItem), one key per user. */
export class WebStorageOutbox implements OutboxStorage {
  constructor(
    private readonly storage: {
      getItem(key: string): string | null;
      setItem(key: string, value: string): void;
    },
    private readonly key: string,
  ) {}
  load(): OutboxEntry[] {
    try {
      const parsed = JSON.parse(this.storage.getItem(this.key) ?? '[]') as unknown;
      return Array.isArray(parsed) ? (parsed as OutboxEntry[]) : [];
    } catch {
      return [];
    }
  }
  save(entries: OutboxEntry[]): void {
    this.storage.setItem(this.key, JSON.stringify(entries));
  }
}

/** The server did not take it yet but will: wait and send again with the same clientMsgId. */
const RETRYABLE = new Set(['rate_limited', 'unavailable', 'timeout', 'internal', 'deadline_exceeded']);
/** No connection: wait for resume() (the connection is back), not for a timer. */
const DISCONNECTED = new Set(['connection_closed', 'not_connected']);

export interface OutboxEvents {
  /** The entries changed (queued, sent or failed): redraw the optimistic echo. */
  change: () => void;
  sent: (entry: OutboxEntry, message: Message) => void;
  /** Refused for good (forbidden, invalid_argument, not_found…): the entry is removed. */
  failed: (entry: OutboxEntry, error: ApiError) => void;
}

export interface OutboxOptions {
  storage?: OutboxStorage;
  backoff?: BackoffOptions;
  random?: () => number;
}

/**
 * Sends in the order the user wrote, one at a time, until each is acknowledged: after a drop,
 * a timeout, `rate_limited` or `unavailable` it sends again with the same clientMsgId (honouring
 * `retryAfterMs`), so nothing is lost and nothing is stored twice.
 */
export class Outbox extends Emitter<OutboxEvents> {
  private entries: OutboxEntry[] = [];
  private readonly storage: OutboxStorage;
  private flushing = false;
  private connected = false;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly send: (entry: OutboxEntry) => Promise<Message>,
    private readonly options: OutboxOptions = {},
  ) {
    super();
    this.storage = options.storage ?? new MemoryOutboxStorage();
  }

  /** Loads what an earlier page or process left unsent (call once, before resume()). */
  async restore(): Promise<void> {
    const stored = await this.storage.load();
    const known = new Set(this.entries.map((e) => e.clientMsgId));
    this.entries.push(...stored.filter((e) => !known.has(e.clientMsgId)));
    if (stored.length > 0) this.emit('change');
  }

  /** Queues a message; it goes out now if connected, or once resume() is called. */
  async enqueue(entry: OutboxEntry): Promise<void> {
    this.entries.push(entry);
    await this.persist();
    this.emit('change');
    this.kick();
  }

  /** Unsent entries, oldest first (of one conversation when given). */
  pending(conversationId?: string): OutboxEntry[] {
    return this.entries.filter((e) => conversationId === undefined || e.conversationId === conversationId);
  }

  /** The connection is up: send what waits. */
  resume(): void {
    this.connected = true;
    this.attempt = 0;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.kick();
  }

  /** The connection is down: stop sending until resume(). */
  pause(): void {
    this.connected = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private kick(): void {
    if (this.connected && !this.flushing && !this.timer) void this.flush();
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.connected && this.entries.length > 0) {
        const entry = this.entries[0]!;
        try {
          const message = await this.send(entry);
          this.attempt = 0;
          await this.remove(entry);
          this.emit('sent', entry, message);
        } catch (err) {
          const error = err instanceof ApiError ? err : new ApiError('internal', String(err));
          if (DISCONNECTED.has(error.code) && !this.connected) return; // resume() sends it again
          if (RETRYABLE.has(error.code) || DISCONNECTED.has(error.code) || error.status >= 500) {
            const { backoff, random } = this.options;
            const wait =
              error.retryAfterMs !== undefined
                ? hintedDelay(error.retryAfterMs, this.attempt++, backoff, random)
                : backoffDelay(this.attempt++, backoff, random);
            this.timer = setTimeout(() => {
              this.timer = undefined;
              this.kick();
            }, wait);
            return;
          }
          await this.remove(entry);
          this.emit('failed', entry, error);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private async remove(entry: OutboxEntry): Promise<void> {
    this.entries = this.entries.filter((e) => e.clientMsgId !== entry.clientMsgId);
    await this.persist();
    this.emit('change');
  }

  private async persist(): Promise<void> {
    await this.storage.save(this.entries);
  }
}
