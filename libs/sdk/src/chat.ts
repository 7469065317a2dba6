import type { AnyServerFrame, Conversation, Invitation, Message, Presence } from '@im/proto/client/v1';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import type { ImClient } from './client.js';
import { ImConnection, type ConnectionState, type SocketFactory } from './connection.js';
import { ConversationLog, withOwnReactions } from './conversation-log.js';
import { Emitter } from './emitter.js';
import { ApiError } from './errors.js';
import { Outbox, type OutboxEntry, type OutboxStorage } from './outbox.js';

export interface ChatOptions {
  /** How sockets are opened; default: the global WebSocket with the auth frame (browsers). */
  socketFactory?: SocketFactory;
  /** Where unsent messages wait (default: memory; browsers: WebStorageOutbox over localStorage). */
  outboxStorage?: OutboxStorage;
  backoff?: BackoffOptions;
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  /** A `typing` event shows for this long unless repeated. */
  typingTtlMs?: number;
}

/** What a conversation list row shows. */
export interface ConversationState {
  conversation: Conversation;
  lastSeq: number;
  readSeq: number;
  /** lastSeq − readSeq, as the server counts it. */
  unreadCount: number;
  mentionCount: number;
  lastMessage?: Message;
  /** Other members typing now. */
  typing: string[];
  /** Other members' read markers (from live `read` events). */
  readBy: Record<string, number>;
  /** The server's mention count up to this seq (from the conversation list)… */
  countedUpTo: number;
  serverMentions: number;
  /** …and the seqs of later unread mentions seen here (live or healed). */
  mentionSeqs: number[];
}

/** One row of a chat view: a stored message, or an optimistic echo waiting for its ack (seq 0). */
export interface TimelineItem {
  message: Message;
  pending: boolean;
}

export interface ChatEvents {
  /** Anything visible changed: redraw. */
  change: () => void;
  /** A message seen for the first time (once per conversation and seq, live or healed). */
  message: (message: Message) => void;
  /** A send refused for good (the outbox dropped it). */
  failed: (entry: OutboxEntry, error: ApiError) => void;
  state: (state: ConnectionState) => void;
  /** The session ended (revoked, or the token could not be renewed): log in again. */
  stopped: (error?: ApiError) => void;
  /** Someone invited the user into a group or channel (tenants that ask for consent). */
  invited: (invitation: Invitation) => void;
}

const TYPING_THROTTLE_MS = 3_000;
/** The gateway's cap on one presence.subscribe, and so on the users one socket follows. */
const MAX_PRESENCE_FOLLOWS = 500;

/**
 * The client-side state of one user: conversations with unread and mention counts, each
 * conversation's messages deduplicated by seq with gaps healed through `sync`, an outbox that
 * survives reconnects, typing and presence with expiry. Built on ImClient (REST) and ImConnection.
 */
export class ImChat extends Emitter<ChatEvents> {
  readonly connection: ImConnection;
  readonly outbox: Outbox;
  readonly log = new ConversationLog();
  readonly presence = new Map<string, Presence>();
  private readonly states = new Map<string, ConversationState>();
  private readonly versions = new Map<string, number>();
  private readonly presenceSubscriptions = new Set<string>();
  private readonly typingTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly typingSentAt = new Map<string, number>();
  private readonly healing = new Map<string, Promise<void>>();
  private readonly healAgain = new Set<string>();
  private listing: Promise<void> | undefined;
  private listAgain: Promise<void> | undefined;
  private listed = false;
  private stopped = true;
  private healRetry: ReturnType<typeof setTimeout> | undefined;
  private resyncTimer: ReturnType<typeof setTimeout> | undefined;
  private presenceRetry: ReturnType<typeof setTimeout> | undefined;
  private healAttempt = 0;

  constructor(
    readonly client: ImClient,
    private readonly options: ChatOptions = {},
  ) {
    super();
    this.connection = new ImConnection({
      url: client.wsUrl,
      token: () => client.accessToken(),
      refresh: async () => (await client.refresh()).accessToken,
      socketFactory: options.socketFactory,
      backoff: options.backoff,
      pingIntervalMs: options.pingIntervalMs,
      pingTimeoutMs: options.pingTimeoutMs,
    });
    this.outbox = new Outbox((entry) => this.sendNow(entry), {
      storage: options.outboxStorage,
      backoff: options.backoff,
    });
    this.connection.on('state', (state) => {
      if (state !== 'open') this.outbox.pause();
      this.emit('state', state);
      this.emit('change');
    });
    this.connection.on('ready', (_ready, { reconnected }) => void this.onReady(reconnected));
    this.connection.on('frame', (frame) => this.onFrame(frame));
    this.connection.on('stopped', (error) => this.emit('stopped', error));
    this.outbox.on('change', () => this.emit('change'));
    this.outbox.on('sent', (_entry, message) => this.addMessages([message]));
    this.outbox.on('failed', (entry, error) => {
      // an earlier try was stored but its ack lost (then e.g. the user was removed): not a failure
      const stored = this.log
        .messages(entry.conversationId)
        .some((m) => m.senderId === this.userId && m.clientMsgId === entry.clientMsgId);
      if (!stored) this.emit('failed', entry, error);
    });
  }

  get userId(): string {
    return this.client.user.id;
  }

  get state(): ConnectionState {
    return this.connection.state;
  }

  /**
   * Loads unsent messages, connects (and stays connected) and loads the conversation list. A list
   * that cannot be loaded now is loaded on the next `ready`.
   */
  async start(): Promise<void> {
    this.stopped = false;
    await this.outbox.restore().catch(() => undefined);
    if (this.stopped) return;
    this.connection.start();
    await this.refreshConversations().catch(() => undefined);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.healRetry);
    clearTimeout(this.resyncTimer);
    clearTimeout(this.presenceRetry);
    this.connection.stop();
    for (const t of this.typingTimers.values()) clearTimeout(t);
    this.typingTimers.clear();
  }

  /** Re-reads the conversation list (every page) from REST; calls during a reload share the next one. */
  refreshConversations(): Promise<void> {
    if (this.listing) {
      this.listAgain ??= this.listing
        .catch(() => undefined)
        .then(() => {
          this.listAgain = undefined;
          return this.refreshConversations();
        });
      return this.listAgain;
    }
    this.listing = this.listAllConversations().finally(() => (this.listing = undefined));
    return this.listing;
  }

  private async listAllConversations(): Promise<void> {
    let cursor: string | undefined;
    do {
      const page = await this.client.listConversations({ cursor, limit: 100 });
      for (const c of page.conversations) this.upsert(c);
      cursor = page.nextCursor;
    } while (cursor);
    this.listed = true;
    this.emit('change');
  }

  /** Conversations, the most recently active first. */
  conversations(): ConversationState[] {
    // the later of the last message and the conversation's activity (for one added later: the add)
    const at = (s: ConversationState) => {
      const message = s.lastMessage?.createdAt ?? '';
      const activity = s.conversation.lastActivityAt ?? s.conversation.createdAt ?? '';
      return message > activity ? message : activity;
    };
    return [...this.states.values()].sort((a, b) => at(b).localeCompare(at(a)));
  }

  conversation(id: string): ConversationState | undefined {
    return this.states.get(id);
  }

  /** The messages held, in seq order, then the optimistic echoes of what is still being sent. */
  timeline(conversationId: string): TimelineItem[] {
    const stored = this.log.messages(conversationId);
    const storedIds = new Set(stored.filter((m) => m.senderId === this.userId).map((m) => m.clientMsgId));
    const echoes = this.outbox
      .pending(conversationId)
      .filter((e) => !storedIds.has(e.clientMsgId))
      .map((e) => ({ message: echo(e, this.userId), pending: true }));
    return [...stored.map((message) => ({ message, pending: false })), ...echoes];
  }

  /** Loads a page of older history; false when the conversation's beginning is reached. */
  async loadOlder(conversationId: string, limit = 50): Promise<boolean> {
    const state = this.states.get(conversationId);
    const lowest = this.log.lowest(conversationId) || (state ? state.lastSeq + 1 : 1);
    if (lowest <= 1) return false;
    const page = await this.client.listMessages(conversationId, { beforeSeq: lowest, limit });
    this.addMessages(page.messages);
    return page.hasMore && page.messages.length > 0;
  }

  /** Reads the other members' read markers (live `read` events keep them current afterwards). */
  async loadReceipts(conversationId: string): Promise<void> {
    const state = this.states.get(conversationId);
    if (!state) return;
    for (const r of await this.client.receipts(conversationId))
      if (r.userId !== this.userId) state.readBy[r.userId] = Math.max(state.readBy[r.userId] ?? 0, r.readSeq);
    this.emit('change');
  }

  /** Queues a message: it shows at once (pending) and goes out, retried, until acknowledged. */
  async send(
    conversationId: string,
    text: string,
    extra: Pick<OutboxEntry, 'replyTo' | 'mentions' | 'attachments'> = {},
  ): Promise<string> {
    const clientMsgId = globalThis.crypto.randomUUID();
    await this.outbox.enqueue({ clientMsgId, conversationId, text, createdAt: Date.now(), ...extra });
    return clientMsgId;
  }

  /** Edits the user's own message; the edited message replaces the held one. */
  edit(conversationId: string, seq: number, text: string): Promise<Message> {
    return this.change('message.edit', { conversationId, seq, text }, () =>
      this.client.editMessage(conversationId, seq, text),
    );
  }

  /** Deletes a message (own, or any as a group or channel admin): a tombstone keeps its seq. */
  delete(conversationId: string, seq: number): Promise<Message> {
    return this.change('message.delete', { conversationId, seq }, () =>
      this.client.deleteMessage(conversationId, seq),
    );
  }

  /** Adds (or removes) the user's reaction; idempotent. */
  react(conversationId: string, seq: number, emoji: string, add = true): Promise<Message> {
    return this.change(add ? 'reaction.add' : 'reaction.remove', { conversationId, seq, emoji }, () =>
      this.client.react(conversationId, seq, emoji, add),
    );
  }

  /** Over the socket when it is open, else REST; either way the result is applied at once. */
  private async change(
    type: 'message.edit' | 'message.delete' | 'reaction.add' | 'reaction.remove',
    payload: Record<string, unknown>,
    overRest: () => Promise<Message>,
  ): Promise<Message> {
    const message =
      this.connection.state === 'open'
        ? (await this.connection.request(type, payload)).message
        : await overRest();
    if (!message) throw new ApiError('invalid_response', `the ack of ${type} carries no message`);
    this.applyUpdates(message.conversationId, [message], false);
    this.emit('change');
    return message;
  }

  /** Marks everything held as read (the read marker only moves forward). */
  async markRead(conversationId: string): Promise<void> {
    const state = this.states.get(conversationId);
    const seq = Math.max(this.log.contiguousUpTo(conversationId), state?.lastSeq ?? 0);
    if (!state || seq <= state.readSeq) return;
    this.applyRead(state, seq);
    this.emit('change');
    if (this.connection.state === 'open')
      await this.connection.request('read', { conversationId, seq }).catch(() => undefined);
    else await this.client.markRead(conversationId, seq).catch(() => undefined);
  }

  /** Tells the others the user is typing (at most every 3 s per conversation). */
  typing(conversationId: string): void {
    const now = Date.now();
    if (now - (this.typingSentAt.get(conversationId) ?? 0) < TYPING_THROTTLE_MS) return;
    if (this.connection.state !== 'open') return;
    this.typingSentAt.set(conversationId, now);
    this.connection.request('typing', { conversationId }).catch(() => undefined);
  }

  /**
   * Follows these users' presence too (kept across reconnects). presence.subscribe replaces the
   * socket's whole set, so every call sends all of them — the MAX_PRESENCE_FOLLOWS most recently
   * asked for, the most a socket may follow.
   */
  async subscribePresence(userIds: string[]): Promise<void> {
    const fresh = [...new Set(userIds)].filter((u) => !this.presenceSubscriptions.has(u));
    if (fresh.length === 0) return;
    for (const u of fresh) this.presenceSubscriptions.add(u);
    for (const u of this.presenceSubscriptions) {
      if (this.presenceSubscriptions.size <= MAX_PRESENCE_FOLLOWS) break;
      this.presenceSubscriptions.delete(u); // the oldest go first (insertion order)
    }
    if (this.connection.state === 'open') await this.requestPresence();
  }

  private async requestPresence(): Promise<void> {
    clearTimeout(this.presenceRetry);
    try {
      const ack = await this.connection.request('presence.subscribe', {
        userIds: [...this.presenceSubscriptions],
      });
      for (const p of ack.presence ?? []) this.presence.set(p.userId, p);
      this.emit('change');
    } catch (err) {
      // throttled: the server kept the previous set, so send the whole set again when allowed
      if (err instanceof ApiError && err.code === 'rate_limited')
        this.presenceRetry = setTimeout(() => void this.requestPresence(), err.retryAfterMs ?? 2_000);
    }
  }

  private sendNow(entry: OutboxEntry): Promise<Message> {
    const { createdAt: _createdAt, ...payload } = entry;
    return this.connection.request('message.send', { ...payload }).then((ack) => {
      if (!ack.message) throw new ApiError('invalid_response', 'the ack of message.send carries no message');
      return ack.message;
    });
  }

  private async onReady(reconnected: boolean): Promise<void> {
    this.outbox.resume();
    if (this.presenceSubscriptions.size > 0) void this.requestPresence();
    if (reconnected || !this.listed) await this.refreshConversations().catch(() => undefined);
    await this.healAll();
  }

  /** Syncs every conversation; on failure tries again with backoff while the connection is open. */
  private async healAll(): Promise<void> {
    clearTimeout(this.healRetry);
    try {
      await this.heal([...this.states.keys()]);
      this.healAttempt = 0;
    } catch {
      if (this.connection.state !== 'open') return; // the next ready heals
      this.healRetry = setTimeout(
        () => void this.healAll(),
        backoffDelay(this.healAttempt++, this.options.backoff),
      );
    }
  }

  private onFrame(frame: AnyServerFrame): void {
    switch (frame.type) {
      case 'message.new': {
        const m = frame.message!;
        this.addMessages([m]);
        if (this.log.hasGap(m.conversationId)) void this.heal([m.conversationId]).catch(() => undefined);
        return;
      }
      case 'message.updated': {
        const m = frame.message!;
        // versions are dense per conversation: a jump means an update was missed
        const missed = m.version > (this.versions.get(m.conversationId) ?? 0) + 1;
        this.applyUpdates(m.conversationId, [m], !missed);
        if (missed) void this.heal([m.conversationId]).catch(() => undefined);
        break;
      }
      case 'read': {
        const state = this.states.get(frame.conversationId);
        if (!state) return;
        if (frame.userId === this.userId) this.applyRead(state, frame.seq);
        else state.readBy[frame.userId] = Math.max(state.readBy[frame.userId] ?? 0, frame.seq);
        break;
      }
      case 'typing':
        if (frame.userId !== this.userId) this.showTyping(frame.conversationId, frame.userId);
        break;
      case 'presence': {
        const { type: _type, ...presence } = frame;
        this.presence.set(frame.userId, presence as Presence);
        break;
      }
      case 'conversation.updated':
        if (frame.conversation) this.upsert(frame.conversation);
        break;
      case 'conversation.invited':
        if (frame.invitation) this.emit('invited', frame.invitation);
        break;
      case 'resync':
        // live events may have been lost on the server's side (conversations joined meanwhile
        // too): list and heal everything, as after a reconnect
        clearTimeout(this.resyncTimer);
        this.resyncTimer = setTimeout(
          () =>
            void this.refreshConversations()
              .catch(() => undefined)
              .then(() => this.healAll()),
          frame.afterMs,
        );
        return;
      default:
        return;
    }
    this.emit('change');
  }

  /** Asks `sync` for everything after each conversation's contiguous point, page by page. */
  private heal(conversationIds: string[]): Promise<void> {
    const todo = conversationIds.filter((id) => {
      if (!this.healing.has(id)) return true;
      this.healAgain.add(id);
      return false;
    });
    if (todo.length === 0) return Promise.resolve();
    const run = this.syncPages(todo).finally(() => {
      for (const id of todo) this.healing.delete(id);
      const again = todo.filter((id) => this.healAgain.delete(id));
      if (again.length > 0) void this.heal(again).catch(() => undefined);
    });
    for (const id of todo) this.healing.set(id, run);
    return run;
  }

  private async syncPages(conversationIds: string[]): Promise<void> {
    let ids = conversationIds;
    for (let i = 0; i < conversationIds.length; i += 100) {
      ids = conversationIds.slice(i, i + 100);
      while (ids.length > 0) {
        const cursors = ids.map((conversationId) => ({
          conversationId,
          afterSeq: this.log.contiguousUpTo(conversationId),
          afterVersion: this.versions.get(conversationId) ?? 0,
        }));
        const before = new Map(cursors.map((c) => [c.conversationId, c]));
        const ack = await this.connection.request('sync', { conversations: cursors, limit: 200 });
        const more: string[] = [];
        let progressed = false;
        for (const synced of ack.conversations ?? []) {
          this.addMessages(synced.messages ?? []);
          // held ones come back in their current state (an edit made while we were away)
          for (const m of synced.messages ?? []) this.log.update(m);
          this.applyUpdates(synced.conversationId, synced.updated ?? []);
          this.versions.set(
            synced.conversationId,
            Math.max(this.versions.get(synced.conversationId) ?? 0, synced.version),
          );
          if (synced.conversation) this.upsert(synced.conversation);
          const state = this.states.get(synced.conversationId);
          if (state) {
            state.lastSeq = Math.max(state.lastSeq, synced.lastSeq);
            this.applyRead(state, synced.readSeq);
          }
          const cursor = before.get(synced.conversationId);
          if (
            this.log.contiguousUpTo(synced.conversationId) > (cursor?.afterSeq ?? 0) ||
            (this.versions.get(synced.conversationId) ?? 0) > (cursor?.afterVersion ?? 0)
          )
            progressed = true;
          if (synced.hasMore) more.push(synced.conversationId);
        }
        // the server shares one budget among the cursors in order (a conversation it had no room
        // for comes back unchanged, with hasMore) and always lets the first move: ask again while
        // any moved, and stop when none did
        ids = progressed ? more : [];
      }
    }
    this.emit('change');
  }

  private addMessages(messages: Message[]): void {
    let changed = false;
    for (const m of messages) {
      // a conversation new to us: what came before this message is history, not a gap
      if (!this.states.has(m.conversationId) && this.log.lowest(m.conversationId) === 0)
        this.log.startAt(m.conversationId, m.seq);
      if (!this.log.add(m)) continue;
      changed = true;
      const state = this.states.get(m.conversationId);
      if (!state) {
        void this.refreshConversations().catch(() => undefined); // a conversation new to us
        this.emit('message', m);
        continue;
      }
      // the server counted mentions up to the list's lastSeq; later ones (live or healed) count here
      if (
        m.seq > state.countedUpTo &&
        m.senderId !== this.userId &&
        m.seq > state.readSeq &&
        mentions(m, this.userId)
      ) {
        state.mentionSeqs.push(m.seq);
        recountMentions(state);
      }
      state.lastSeq = Math.max(state.lastSeq, m.seq);
      // sending moves the sender's own read marker (the server sends no read event for it)
      if (m.senderId === this.userId) this.applyRead(state, m.seq);
      if (!state.lastMessage || m.seq >= state.lastMessage.seq) state.lastMessage = m;
      state.unreadCount = Math.max(0, state.lastSeq - state.readSeq);
      this.clearTyping(m.conversationId, m.senderId);
      this.emit('message', m);
    }
    if (changed) this.emit('change');
  }

  /** `advance`: the updates are known complete up to these versions (not after a gap). */
  private applyUpdates(conversationId: string, messages: Message[], advance = true): void {
    for (const m of messages) {
      const before = this.log.get(conversationId, m.seq);
      this.log.update(m);
      if (m.deleted && before && !before.deleted) this.forgetMention(conversationId, before, m.version);
      if (advance && m.version === (this.versions.get(conversationId) ?? 0) + 1)
        this.versions.set(conversationId, m.version);
      const state = this.states.get(conversationId);
      const preview = state?.lastMessage;
      if (state && preview?.seq === m.seq && (preview.version ?? 0) <= m.version)
        state.lastMessage =
          this.log.get(conversationId, m.seq) ?? (m.shared ? withOwnReactions(m, preview) : m);
    }
  }

  /**
   * A message that mentioned the user, deleted at `version`, no longer counts as an unread mention
   * (the server's count of a view at that version or later already leaves it out).
   */
  private forgetMention(conversationId: string, m: Message, version: number): void {
    const state = this.states.get(conversationId);
    if (!state || m.senderId === this.userId || !mentions(m, this.userId) || m.seq <= state.readSeq) return;
    if (state.mentionSeqs.includes(m.seq)) state.mentionSeqs = state.mentionSeqs.filter((s) => s !== m.seq);
    else if (m.seq <= state.countedUpTo && state.conversation.lastVersion < version)
      state.serverMentions = Math.max(0, state.serverMentions - 1);
    recountMentions(state);
  }

  private applyRead(state: ConversationState, seq: number): void {
    if (seq <= state.readSeq) return;
    state.readSeq = seq;
    state.unreadCount = Math.max(0, state.lastSeq - seq);
    recountMentions(state);
  }

  private upsert(c: Conversation): void {
    const held = this.states.get(c.id);
    if (held) {
      if (c.lastVersion < held.conversation.lastVersion) return;
      // a settings or membership change takes the next version too
      if (c.lastVersion === (this.versions.get(c.id) ?? 0) + 1) this.versions.set(c.id, c.lastVersion);
      if (c.shared) {
        // sent alike to every member of a large conversation: the read marker and counts stay ours
        const { readSeq, unreadCount, mentionCount } = held.conversation;
        held.conversation = { ...c, readSeq, unreadCount, mentionCount, shared: false };
        return;
      }
      held.conversation = c;
      if (c.lastSeq > held.lastSeq) {
        held.lastSeq = c.lastSeq;
        held.serverMentions = c.mentionCount;
        held.countedUpTo = c.lastSeq;
        held.mentionSeqs = held.mentionSeqs.filter((seq) => seq > c.lastSeq);
        recountMentions(held);
      }
      this.applyRead(held, c.readSeq);
      held.unreadCount = Math.max(0, held.lastSeq - held.readSeq);
      if (c.lastMessage && (!held.lastMessage || c.lastMessage.seq > held.lastMessage.seq))
        held.lastMessage = c.lastMessage;
      return;
    }
    if (c.shared) {
      // a large conversation this device does not hold yet: its own view has its read marker
      void this.client
        .getConversation(c.id)
        .then((own) => {
          this.upsert(own);
          this.emit('change');
        })
        .catch(() => undefined);
      return;
    }
    this.states.set(c.id, {
      conversation: c,
      lastSeq: c.lastSeq,
      readSeq: c.readSeq,
      unreadCount: c.unreadCount,
      mentionCount: c.mentionCount,
      lastMessage: c.lastMessage,
      typing: [],
      readBy: {},
      countedUpTo: c.lastSeq,
      serverMentions: c.mentionCount,
      mentionSeqs: [],
    });
    this.versions.set(c.id, Math.max(this.versions.get(c.id) ?? 0, c.lastVersion));
    this.log.startAt(c.id, c.lastSeq + 1);
    if (c.lastMessage) this.log.add(c.lastMessage);
  }

  private showTyping(conversationId: string, userId: string): void {
    const state = this.states.get(conversationId);
    if (!state) return;
    if (!state.typing.includes(userId)) state.typing = [...state.typing, userId];
    const key = `${conversationId} ${userId}`;
    clearTimeout(this.typingTimers.get(key));
    this.typingTimers.set(
      key,
      setTimeout(() => {
        this.clearTyping(conversationId, userId);
        this.emit('change');
      }, this.options.typingTtlMs ?? 6_000),
    );
  }

  private clearTyping(conversationId: string, userId: string): void {
    const key = `${conversationId} ${userId}`;
    clearTimeout(this.typingTimers.get(key));
    this.typingTimers.delete(key);
    const state = this.states.get(conversationId);
    if (state?.typing.includes(userId)) state.typing = state.typing.filter((u) => u !== userId);
  }
}

/** Unread mentions: the server's count while the marker is below it, plus the later ones seen here. */
function recountMentions(state: ConversationState): void {
  state.mentionSeqs = state.mentionSeqs.filter((seq) => seq > state.readSeq);
  state.mentionCount =
    (state.readSeq < state.countedUpTo ? state.serverMentions : 0) + state.mentionSeqs.length;
}

function mentions(m: Message, userId: string): boolean {
  return (m.mentions ?? []).some((u) => u === userId || u === 'all');
}

function echo(entry: OutboxEntry, senderId: string): Message {
  return {
    id: `pending:${entry.clientMsgId}`,
    conversationId: entry.conversationId,
    seq: 0,
    senderId,
    clientMsgId: entry.clientMsgId,
    text: entry.text,
    createdAt: new Date(entry.createdAt).toISOString(),
    attachments: [],
    reactions: [],
    version: 0,
    mentions: entry.mentions ?? [],
    replyCount: 0,
    lastReplySeq: 0,
  } as Message;
}
