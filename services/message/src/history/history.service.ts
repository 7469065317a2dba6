import { Injectable } from '@nestjs/common';
import { AppError } from '@im/platform/errors';
import type { Message, PinnedMessage, SyncedConversation } from '@im/proto/client/v1';
import type { Caller } from '@im/proto/common/v1';
import { ConversationService } from '../conversations/conversation.service.js';
import { ConversationsTable } from '../storage/conversations.table.js';
import { MembersTable } from '../storage/members.table.js';
import { maybeUnread } from '../domain/membership-activity.js';
import { asSeenBy, CONVERSATION_CHANGE } from '../domain/message-updates.js';
import { VIEW_MEMBERS } from '../conversations/conversation-view.js';
import { MessageChangesTable } from '../storage/message-changes.table.js';
import { PinsTable } from '../storage/pins.table.js';
import { approximateSize, MessagesTable } from '../storage/messages.table.js';
import { ReactionsTable } from '../storage/reactions.table.js';
import { ThreadRepliesTable } from '../storage/thread-replies.table.js';
import { rootSeqsOf, withReplyRefs } from '../domain/threads.js';
import { validateSeq } from '../domain/message-rules.js';
import { updatesWithin } from '../domain/sync-updates.js';

const PAGE_DEFAULT = 50;
const PAGE_MAX = 200;
const SYNC_DEFAULT = 100;
const SYNC_MAX = 500;
const SYNC_CURSORS_MAX = 200;
/** Responses stay well under the 4 MiB gRPC and 1 MiB WebSocket limits; past it, hasMore. */
const RESPONSE_MAX_BYTES = 768 * 1024;

/**
 * History and sync read up to the stored last_seq only: rows of a batch the sequencer is still
 * writing stay invisible until the whole batch is, so a reader never sees seq N+1 without N.
 * Pages are cut by count and by size, whichever comes first, and say hasMore.
 */
@Injectable()
export class HistoryService {
  constructor(
    private readonly conversations: ConversationService,
    private readonly conversationsTable: ConversationsTable,
    private readonly members: MembersTable,
    private readonly messages: MessagesTable,
    private readonly changes: MessageChangesTable,
    private readonly reactions: ReactionsTable,
    private readonly pins: PinsTable,
    private readonly threads: ThreadRepliesTable,
  ) {}

  /** The conversation's pinned messages, most recently pinned first. */
  async pinned(caller: Caller, conversationId: string): Promise<PinnedMessage[]> {
    await this.conversations.requireMember(caller, conversationId);
    const pins = (await this.pins.list(conversationId)).sort(
      (a, b) => b.pinnedAt.getTime() - a.pinnedAt.getTime(),
    );
    const found = await this.seenBy(
      caller,
      conversationId,
      await this.messages.getMany(
        conversationId,
        pins.map((p) => p.seq),
      ),
    );
    const bySeq = new Map(found.map((m) => [m.seq, m]));
    return pins.flatMap((p) => {
      const message = bySeq.get(p.seq);
      return message && !message.deleted
        ? [{ message, pinnedBy: p.pinnedBy, pinnedAt: p.pinnedAt.toISOString() }]
        : [];
    });
  }

  async list(
    caller: Caller,
    conversationId: string,
    beforeSeq: number,
    afterSeq: number,
    limit: number,
    ascending: boolean,
  ): Promise<{ messages: Message[]; hasMore: boolean }> {
    if (limit < 0 || limit > PAGE_MAX) throw new AppError('invalid_argument', `limit: 1-${PAGE_MAX}`);
    if (beforeSeq < 0 || afterSeq < 0)
      throw new AppError('invalid_argument', 'beforeSeq/afterSeq: not negative');
    const size = limit || PAGE_DEFAULT;
    const { row } = await this.conversations.requireMember(caller, conversationId);
    if (ascending) {
      const upTo = beforeSeq > 0 ? Math.min(beforeSeq - 1, row.lastSeq) : row.lastSeq;
      const found = await this.messages.after(conversationId, afterSeq, upTo, size + 1, RESPONSE_MAX_BYTES);
      const page = found.slice(0, size);
      return {
        messages: await this.seenBy(caller, conversationId, page),
        hasMore: (page.at(-1)?.seq ?? afterSeq) < upTo,
      };
    }
    const before = beforeSeq > 0 ? Math.min(beforeSeq, row.lastSeq + 1) : row.lastSeq + 1;
    const found = (await this.messages.before(conversationId, before, size + 1)).filter(
      (m) => m.seq > afterSeq,
    );
    const page = withinBudget(found.slice(0, size));
    return { messages: await this.seenBy(caller, conversationId, page), hasMore: found.length > page.length };
  }

  /** Messages of any conversations as the caller sees them (one read per conversation), in order. */
  async seenByCaller(caller: Caller, messages: Message[]): Promise<Message[]> {
    const byConversation = new Map<string, Message[]>();
    for (const m of messages) {
      let list = byConversation.get(m.conversationId);
      if (!list) byConversation.set(m.conversationId, (list = []));
      list.push(m);
    }
    const seen = new Map<Message, Message>();
    await Promise.all(
      [...byConversation].map(async ([id, list]) => {
        const out = await this.seenBy(caller, id, list);
        list.forEach((m, i) => seen.set(m, out[i]!));
      }),
    );
    return messages.map((m) => seen.get(m)!);
  }

  /**
   * Messages as the caller sees them: `me` on the reactions the caller is part of (one read per
   * page), and each reply's root as it is now (one read for the roots outside the page).
   */
  private async seenBy(
    caller: Caller,
    conversationId: string,
    page: Message[],
    knownRoots: readonly Message[] = [],
  ): Promise<Message[]> {
    const messages = await this.withRoots(conversationId, page, knownRoots);
    const reacted = messages.filter((m) => m.reactions.length > 0);
    if (reacted.length === 0) return messages;
    const seqs = reacted.map((m) => m.seq);
    const mine = await this.reactions.mine(
      conversationId,
      caller.userId,
      Math.min(...seqs),
      Math.max(...seqs),
    );
    return messages.map((m) => asSeenBy(m, mine.get(m.seq) ?? new Set()));
  }

  private async withRoots(
    conversationId: string,
    messages: Message[],
    knownRoots: readonly Message[],
  ): Promise<Message[]> {
    const seqs = rootSeqsOf(messages);
    if (seqs.length === 0) return messages;
    const known = new Map([...knownRoots, ...messages].map((m) => [m.seq, m]));
    const missing = seqs.filter((seq) => !known.has(seq));
    if (missing.length > 0)
      for (const m of await this.messages.getMany(conversationId, missing)) known.set(m.seq, m);
    return withReplyRefs(messages, (seq) => known.get(seq));
  }

  /** A thread: the replies of the root at `rootSeq`, oldest first. */
  async replies(
    caller: Caller,
    conversationId: string,
    rootSeq: number,
    afterSeq: number,
    limit: number,
  ): Promise<{ messages: Message[]; hasMore: boolean }> {
    validateSeq(rootSeq);
    if (limit < 0 || limit > PAGE_MAX) throw new AppError('invalid_argument', `limit: 1-${PAGE_MAX}`);
    if (!Number.isSafeInteger(afterSeq) || afterSeq < 0)
      throw new AppError('invalid_argument', 'afterSeq: not negative');
    const size = limit || PAGE_DEFAULT;
    const { row } = await this.conversations.requireMember(caller, conversationId);
    const root = rootSeq <= row.lastSeq ? await this.messages.get(conversationId, rootSeq) : undefined;
    if (!root) throw new AppError('not_found', `no message at seq ${rootSeq}`);
    const seqs = await this.threads.after(conversationId, rootSeq, afterSeq, row.lastSeq, size + 1);
    const page = withinBudget(await this.messages.getMany(conversationId, seqs.slice(0, size)));
    return {
      // the root was just read: the replies show it without reading it again
      messages: await this.seenBy(caller, conversationId, page, [root]),
      hasMore: seqs.length > page.length,
    };
  }

  /**
   * What the caller missed: for each cursor, messages after it (oldest first) and the messages up to
   * it that changed after its version (current state), up to `limit` in all. Without cursors: every
   * conversation with messages after the caller's read marker (a device without state: no updates).
   */
  async sync(
    caller: Caller,
    cursors: ReadonlyArray<{ conversationId: string; afterSeq: number; afterVersion: number }>,
    limit: number,
  ): Promise<{ conversations: SyncedConversation[]; hasMore: boolean }> {
    if (limit < 0 || limit > SYNC_MAX) throw new AppError('invalid_argument', `limit: 1-${SYNC_MAX}`);
    if (cursors.length > SYNC_CURSORS_MAX)
      throw new AppError('invalid_argument', `conversations: at most ${SYNC_CURSORS_MAX} cursors`);
    let budget = limit || SYNC_DEFAULT;
    let bytes = 0;
    // with cursors, only their memberships are read (not every conversation of the user)
    const mine =
      cursors.length > 0
        ? (
            await Promise.all(
              [...new Set(cursors.map((c) => c.conversationId))].map((id) =>
                this.members.membership(caller.userId, id),
              ),
            )
          ).filter((m) => m !== undefined)
        : await this.members.conversationsOf(caller.userId);
    const memberships = new Map(mine.map((m) => [m.conversationId, m]));
    // without cursors, only conversations whose activity copy is past the read marker (or that
    // have no copy: channels) need their row (ADR 0032)
    const needed = cursors.length > 0 ? [...memberships.keys()] : maybeUnread(mine);
    const rows = new Map(
      (await this.conversationsTable.getMany(needed, 'sync'))
        .filter((r) => r.tenantId === caller.tenantId)
        .map((r) => [r.conversationId, r]),
    );
    const wanted =
      cursors.length > 0
        ? cursors.filter((c) => rows.has(c.conversationId)) // non-members' conversations are skipped silently
        : [...rows.values()]
            .filter((r) => r.lastSeq > (memberships.get(r.conversationId)?.readSeq ?? 0))
            .sort((a, b) => b.lastActivityAt.getTime() - a.lastActivityAt.getTime())
            .map((r) => ({
              conversationId: r.conversationId,
              afterSeq: memberships.get(r.conversationId)!.readSeq,
              afterVersion: r.lastVersion,
            }));
    const out: SyncedConversation[] = [];
    let hasMore = false;
    for (const cursor of wanted) {
      const row = rows.get(cursor.conversationId)!;
      const readSeq = Math.min(memberships.get(cursor.conversationId)?.readSeq ?? 0, row.lastSeq);
      const pending = Math.max(0, row.lastSeq - cursor.afterSeq);
      const take = bytes >= RESPONSE_MAX_BYTES ? 0 : Math.min(budget, pending);
      const messages =
        take > 0
          ? await this.messages.after(
              cursor.conversationId,
              cursor.afterSeq,
              row.lastSeq,
              take,
              RESPONSE_MAX_BYTES - bytes,
            )
          : [];
      budget -= messages.length;
      bytes += messages.reduce((n, m) => n + approximateSize(m), 0);
      const updates = await this.updatesSince(
        cursor,
        row.lastVersion,
        bytes >= RESPONSE_MAX_BYTES ? 0 : budget,
        RESPONSE_MAX_BYTES - bytes,
      );
      budget -= updates.read;
      bytes += updates.messages.reduce((n, m) => n + approximateSize(m), 0);
      const more =
        (messages.at(-1)?.seq ?? cursor.afterSeq) < row.lastSeq || updates.version < row.lastVersion;
      hasMore ||= more;
      out.push({
        conversationId: cursor.conversationId,
        messages: await this.seenBy(caller, cursor.conversationId, messages),
        hasMore: more,
        lastSeq: row.lastSeq,
        readSeq,
        updated: await this.seenBy(caller, cursor.conversationId, updates.messages),
        version: updates.version,
        ...(updates.settingsChanged
          ? {
              conversation: await this.conversations.memberView(
                row,
                caller.userId,
                readSeq,
                await this.members.members(cursor.conversationId, VIEW_MEMBERS),
              ),
            }
          : {}),
      });
    }
    return { conversations: out, hasMore };
  }

  /**
   * The messages a device holds (seq <= afterSeq) that changed after afterVersion, reading at most
   * `room` entries of the change log and returning at most `roomBytes` of messages (at least one);
   * `version` is how far they go.
   */
  private async updatesSince(
    cursor: { conversationId: string; afterSeq: number; afterVersion: number },
    lastVersion: number,
    room: number,
    roomBytes: number,
  ): Promise<{ messages: Message[]; version: number; read: number; settingsChanged: boolean }> {
    if (cursor.afterVersion >= lastVersion)
      return { messages: [], version: lastVersion, read: 0, settingsChanged: false };
    // a device that holds none of its messages has none to update, but needs what changed of the
    // conversation itself (settings, members), messages or not
    if (cursor.afterSeq === 0) return { messages: [], version: lastVersion, read: 0, settingsChanged: true };
    if (room <= 0) return { messages: [], version: cursor.afterVersion, read: 0, settingsChanged: false };
    const changes = await this.changes.after(cursor.conversationId, cursor.afterVersion, lastVersion, room);
    const seqs = [
      ...new Set(
        changes.filter((c) => c.seq > CONVERSATION_CHANGE && c.seq <= cursor.afterSeq).map((c) => c.seq),
      ),
    ].sort((a, b) => a - b);
    const stored = new Map(
      (await this.messages.getMany(cursor.conversationId, seqs)).map((m) => [m.seq, m] as const),
    );
    const page = updatesWithin(changes, stored, cursor.afterSeq, roomBytes, approximateSize);
    return {
      messages: page.messages,
      version: !page.cut && changes.length < room ? lastVersion : page.upTo,
      read: page.taken,
      settingsChanged: page.settingsChanged,
    };
  }
}

/** A page cut where it exceeds the response budget (keeping at least one message). */
function withinBudget(page: Message[]): Message[] {
  let bytes = 0;
  for (let i = 0; i < page.length; i++) {
    bytes += approximateSize(page[i]!);
    if (bytes > RESPONSE_MAX_BYTES && i > 0) return page.slice(0, i);
  }
  return page;
}
