import { InvitationsService } from './invitations.service.js';
import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@im/platform/errors';
import { uuidv7 } from '@im/platform/ids';
import { CONFIG } from '@im/platform/nest';
import type { Conversation, Receipt } from '@im/proto/client/v1';
import type { Caller } from '@im/proto/common/v1';
import type { ConversationEvent } from '@im/proto/events/v1';
import { AuthClient } from '../clients/auth.client.js';
import type { MessageConfig } from '../config.js';
import { decodeCursor, encodeCursor } from '../domain/conversation-cursor.js';
import { copiesActivity, listPage, withoutCopy } from '../domain/membership-activity.js';
import {
  assertMayWrite,
  directPairKey,
  newConversationMembers,
  validateTitle,
  type ConversationType,
  type Role,
} from '../domain/conversation-rules.js';
import { ConversationEvents } from '../producers/conversation-events.js';
import { LivePublisher } from '../producers/live-publisher.js';
import { ConversationsTable, type ConversationRow } from '../storage/conversations.table.js';
import { DirectConversationsTable } from '../storage/direct-conversations.table.js';
import { UserSettingsCache } from './user-settings-cache.js';
import { MentionsTable } from '../storage/mentions.table.js';
import { MediaUsesTable } from '../storage/media-uses.table.js';
import { MembersTable, type MemberRow, type MembershipRow } from '../storage/members.table.js';
import { conversationView, sharedConversationView, VIEW_MEMBERS } from './conversation-view.js';
import { ConversationSets } from './conversation-sets.js';
import { MembershipCache } from './membership-cache.js';
import { replyRefOf } from '../domain/threads.js';
import { MessagesTable } from '../storage/messages.table.js';

const LIST_DEFAULT = 50;
const LIST_MAX = 200;

/** Conversations up to this many members get conversation.updated one member at a time. */
const PER_MEMBER_VIEWS_MAX = 1_000;

@Injectable()
export class ConversationService {
  constructor(
    private readonly conversations: ConversationsTable,
    private readonly directs: DirectConversationsTable,
    private readonly members: MembersTable,
    private readonly membership: MembershipCache,
    private readonly sets: ConversationSets,
    private readonly mediaUses: MediaUsesTable,
    private readonly auth: AuthClient,
    private readonly live: LivePublisher,
    private readonly events: ConversationEvents,
    private readonly mentions: MentionsTable,
    private readonly messages: MessagesTable,
    private readonly settings: UserSettingsCache,
    private readonly invitations: InvitationsService,
    @Inject(CONFIG) private readonly config: MessageConfig,
  ) {}

  /** The caller's membership and the conversation, or not_found (also for other tenants). */
  async requireMember(
    caller: Caller,
    conversationId: string,
  ): Promise<{ row: ConversationRow; membership: MembershipRow }> {
    const membership = await this.membership.membership(caller.userId, conversationId);
    const row = membership ? await this.conversations.get(conversationId) : undefined;
    if (!membership || !row || row.tenantId !== caller.tenantId)
      throw new AppError('not_found', 'no such conversation');
    return { row, membership };
  }

  /**
   * The other members' read markers: in conversations up to READ_RECEIPTS_MAX_MEMBERS, of members
   * who share read receipts, and only to a caller who shares them too.
   */
  async receipts(caller: Caller, conversationId: string): Promise<Receipt[]> {
    const { row } = await this.requireMember(caller, conversationId);
    if (row.memberCount > this.config.READ_RECEIPTS_MAX_MEMBERS) return [];
    if (!(await this.settings.get(caller.userId)).readReceipts) return [];
    const others = (await this.members.members(conversationId, this.config.READ_RECEIPTS_MAX_MEMBERS + 1))
      .map((m) => m.userId)
      .filter((u) => u !== caller.userId);
    const sharing = await this.settings.sharing(others);
    const shown = others.filter((u) => sharing.get(u));
    const markers = await Promise.all(shown.map((u) => this.members.membership(u, conversationId)));
    return shown.flatMap((userId, i) => {
      const m = markers[i];
      return m ? [{ userId, readSeq: Math.min(m.readSeq, row.lastSeq) }] : [];
    });
  }

  /** Whether a user is a member (from the membership cache). */
  async isMember(userId: string, conversationId: string): Promise<boolean> {
    return (await this.membership.membership(userId, conversationId)) !== undefined;
  }

  /**
   * The check on every write (send, edit, reaction): a member of the caller's tenant who may write
   * there now (not archived; announcement mode: admins only send), answered from caches.
   */
  async authorizeWrite(caller: Caller, conversationId: string, what: 'send' | 'change'): Promise<void> {
    const membership = await this.membership.membership(caller.userId, conversationId);
    if (!membership || (await this.membership.tenantOf(conversationId)) !== caller.tenantId)
      throw new AppError('not_found', 'no such conversation');
    const settings = await this.membership.writeSettingsOf(conversationId);
    if (settings) assertMayWrite(settings, membership, what);
  }

  /**
   * After the sequencer stored new settings: caches everywhere forget the conversation, and every
   * member gets conversation.updated (their own view). Returns the caller's view.
   */
  async announceSettings(caller: Caller, conversationId: string): Promise<Conversation> {
    this.membership.announceChange(conversationId);
    const row = (await this.conversations.get(conversationId))!;
    if (this.sharesViews(row)) {
      await this.publishSharedView(row);
      return this.view(row, caller.userId);
    }
    const everyone = await this.members.members(conversationId, PER_MEMBER_VIEWS_MAX);
    const readers = await this.readersOf(
      conversationId,
      everyone.map((m) => m.userId),
    );
    const views = await this.memberViews(row, readers, everyone.slice(0, VIEW_MEMBERS));
    readers.forEach(({ userId }, i) =>
      this.live.publish([userId], { event: { $case: 'conversationUpdated', value: views[i]! } }),
    );
    return (
      views[readers.findIndex((r) => r.userId === caller.userId)] ?? (await this.view(row, caller.userId))
    );
  }

  /** The check on every send and read marker: a member of the caller's tenant, answered from caches. */
  async authorize(caller: Caller, conversationId: string): Promise<void> {
    const membership = await this.membership.membership(caller.userId, conversationId);
    if (!membership || (await this.membership.tenantOf(conversationId)) !== caller.tenantId) {
      throw new AppError('not_found', 'no such conversation');
    }
  }

  async create(
    caller: Caller,
    type: string,
    memberIds: readonly string[],
    title: string,
  ): Promise<{ conversation: Conversation; created: boolean; invitedUserIds: string[] }> {
    const named = newConversationMembers(type, caller.userId, memberIds, {
      groupMaxMembers: this.config.GROUP_MAX_MEMBERS,
      channelMaxMembers: this.config.CHANNEL_MAX_MEMBERS,
    });
    const cleanTitle = validateTitle(title);
    await this.requireUsers(caller, named);
    // where being added needs consent, the people named are invited, not added
    const consent =
      type !== 'direct' && named.length > 0 && (await this.auth.groupAddsNeedConsent(caller.tenantId));
    const others = consent ? [] : named;
    await this.requireRoomFor([caller.userId, ...others]);
    const now = new Date();
    let id = uuidv7();
    if (type === 'direct') {
      const claim = await this.directs.claim(caller.tenantId, directPairKey(caller.userId, others[0]!), id);
      if (!claim.created) {
        const existing = await this.conversations.get(claim.conversationId);
        if (existing)
          return {
            conversation: await this.view(existing, caller.userId),
            created: false,
            invitedUserIds: [],
          };
        id = claim.conversationId; // the first creator stopped halfway: finish its conversation
      }
    }
    const row = {
      conversationId: id,
      tenantId: caller.tenantId,
      type: type as ConversationType,
      title: cleanTitle,
      createdBy: caller.userId,
      createdAt: now,
      memberCount: others.length + 1,
      lastSeq: 0,
      lastActivityAt: now,
    };
    await this.conversations.insert(row);
    const creatorRole: Role = type === 'direct' ? 'member' : 'owner';
    const copy = copiesActivity(row.type);
    await Promise.all([
      this.members.add(id, caller.userId, creatorRole, 0, now, copy),
      ...others.map((u) => this.members.add(id, u, 'member', 0, now, copy)),
    ]);
    const stored = {
      ...row,
      lastMessage: undefined,
      lastVersion: 0,
      topic: '',
      archived: false,
      announcement: false,
    };
    const everyone = [caller.userId, ...others];
    // nothing is cached for a new conversation, but its members' conversation sets are
    this.membership.announceMembers(id, { added: everyone, removed: [] });
    await this.announce(stored, everyone, []);
    const event: ConversationEvent = {
      eventId: uuidv7(),
      conversationId: id,
      tenantId: caller.tenantId,
      occurredAt: now.toISOString(),
      event: {
        $case: 'membersChanged',
        value: {
          addedUserIds: everyone,
          removedUserIds: [],
          changedBy: caller.userId,
          updated: [],
          version: 0,
          closed: false,
        },
      },
    };
    await this.events.publish([event]);
    if (consent) await this.invitations.invite(caller, stored, named);
    return {
      conversation: await this.view(stored, caller.userId),
      created: true,
      invitedUserIds: consent ? [...named] : [],
    };
  }

  async get(caller: Caller, conversationId: string): Promise<Conversation> {
    const { row } = await this.requireMember(caller, conversationId);
    // the cached membership authorizes; the read marker moves with every read, so read it fresh
    const fresh = await this.members.membership(caller.userId, conversationId);
    return this.memberView(
      row,
      caller.userId,
      fresh?.readSeq ?? 0,
      await this.members.members(conversationId, VIEW_MEMBERS),
    );
  }

  /**
   * Each user may join one more conversation (USER_MAX_CONVERSATIONS): otherwise limit_exceeded,
   * before anything is written. Checked before the write, so concurrent adds may overshoot by a few.
   */
  async requireRoomFor(userIds: readonly string[]): Promise<void> {
    const max = this.config.USER_MAX_CONVERSATIONS;
    for (let i = 0; i < userIds.length; i += 50) {
      const batch = userIds.slice(i, i + 50);
      const counts = await Promise.all(batch.map((u) => this.members.countOf(u)));
      const full = batch.filter((_, j) => counts[j]! >= max);
      if (full.length > 0)
        throw new AppError(
          'limit_exceeded',
          `userIds: ${full.slice(0, 5).join(', ')} already in ${max} conversations, the most a user may be in`,
        );
    }
  }

  async list(
    caller: Caller,
    cursor: string,
    limit: number,
  ): Promise<{ conversations: Conversation[]; nextCursor: string }> {
    if (limit < 0 || limit > LIST_MAX) throw new AppError('invalid_argument', `limit: 1-${LIST_MAX}`);
    const size = limit || LIST_DEFAULT;
    const after = cursor ? decodeCursor(cursor) : undefined;
    // one partition of memberships with their activity copies, then only the rows shown (and
    // those of memberships without a copy: channels), not one row per membership (ADR 0032)
    const memberships = await this.members.conversationsOf(caller.userId);
    const readSeq = new Map(memberships.map((m) => [m.conversationId, m.readSeq]));
    const rows = new Map(
      (await this.conversations.getMany(withoutCopy(memberships), 'list')).map((r) => [r.conversationId, r]),
    );
    const { page, hasMore } = listPage(
      memberships,
      new Map([...rows.values()].map((r) => [r.conversationId, r.lastActivityAt])),
      after,
      size,
    );
    const fetched = await this.conversations.getMany(
      page.filter((p) => !rows.has(p.id)).map((p) => p.id),
      'list',
    );
    for (const r of fetched) rows.set(r.conversationId, r);
    const shown = page.flatMap((p) => {
      const r = rows.get(p.id);
      return r && r.tenantId === caller.tenantId ? [{ r, p }] : [];
    });
    const conversations = await Promise.all(
      shown.map(async ({ r, p }) => {
        const read = readSeq.get(r.conversationId) ?? 0;
        const view = await this.memberView(
          r,
          caller.userId,
          read,
          r.type === 'direct' ? await this.members.members(r.conversationId, 2) : undefined,
        );
        // what the list is ordered by: for one who joined later, the join (ADR 0032)
        return { ...view, lastActivityAt: new Date(p.activityMs).toISOString() };
      }),
    );
    return { conversations, nextCursor: hasMore ? encodeCursor(page[page.length - 1]!) : '' };
  }

  /**
   * After the sequencer stored a membership change: caches everywhere forget the conversation;
   * the members and those who left or were removed get conversation.updated. Returns the caller's
   * view (a caller who left sees it as read to the end, without members).
   */
  async announceMembership(
    caller: Caller,
    conversationId: string,
    removed: readonly string[],
    added: readonly string[] = [],
  ): Promise<Conversation> {
    this.membership.announceChange(conversationId);
    const row = (await this.conversations.get(conversationId))!;
    const everyone = (await this.members.members(conversationId, 1_000)).map((m) => m.userId);
    await this.announce(row, [...everyone, ...removed], removed, added);
    // asked, not looked up among the first 1 000 (by user id) of a large conversation
    return (await this.members.membership(caller.userId, conversationId))
      ? this.view(row, caller.userId)
      : conversationView(await this.withLastReply(row), row.lastSeq);
  }

  /** The conversation in the caller's tenant (members or not: channels are joined by non-members). */
  async requireInTenant(caller: Caller, conversationId: string): Promise<ConversationRow> {
    const row = await this.conversations.get(conversationId);
    if (!row || row.tenantId !== caller.tenantId) throw new AppError('not_found', 'no such conversation');
    return row;
  }

  /**
   * Who takes over from a leaving owner: the longest-standing admin, else the longest-standing
   * member; '' when the owner is the last member.
   */
  async successorOf(conversationId: string, ownerId: string): Promise<string> {
    const others = (await this.members.members(conversationId))
      .filter((m) => m.userId !== ownerId)
      .sort((a, b) => a.joinedAt.getTime() - b.joinedAt.getTime() || (a.userId < b.userId ? -1 : 1));
    return (others.find((m) => m.role === 'admin') ?? others[0])?.userId ?? '';
  }

  /** Whether the caller is a member (in the caller's tenant) of a conversation the media was sent in. */
  async mayAccessMedia(caller: Caller, mediaId: string): Promise<boolean> {
    for (const conversationId of await this.mediaUses.conversationsOf(mediaId)) {
      const member = await this.membership.membership(caller.userId, conversationId);
      if (member && (await this.membership.tenantOf(conversationId)) === caller.tenantId) return true;
    }
    return false;
  }

  async checkMembership(caller: Caller, conversationId: string, quickNegative = false) {
    const no = { member: false, role: '', otherMemberIds: [], memberCount: 0 };
    if (quickNegative && !(await this.sets.mayBeIn(caller.userId, conversationId))) return no;
    const membership = await this.membership.membership(caller.userId, conversationId);
    if (!membership) return no;
    const row = await this.conversations.get(conversationId);
    if (!row || row.tenantId !== caller.tenantId) return no;
    const others =
      row.memberCount <= 1_000
        ? (await this.membership.membersOf(conversationId))
            .map((m) => m.userId)
            .filter((u) => u !== caller.userId)
        : [];
    return { member: true, role: membership.role, otherMemberIds: others, memberCount: row.memberCount };
  }

  async contacts(caller: Caller, limit: number): Promise<string[]> {
    const max = Math.min(limit || 1_000, 5_000);
    const out = new Set<string>();
    for (const m of (await this.members.conversationsOf(caller.userId)).slice(0, 500)) {
      const row = await this.conversations.get(m.conversationId);
      if (!row || row.memberCount > 1_000) continue;
      for (const member of await this.membership.membersOf(m.conversationId)) {
        if (member.userId !== caller.userId) out.add(member.userId);
        if (out.size >= max) return [...out];
      }
    }
    return [...out];
  }

  private async view(row: ConversationRow, userId: string): Promise<Conversation> {
    const m = await this.members.membership(userId, row.conversationId);
    return this.memberView(
      row,
      userId,
      m?.readSeq ?? 0,
      await this.members.members(row.conversationId, VIEW_MEMBERS),
    );
  }

  /** A member's own view: their read marker, unread count and unread mentions. */
  async memberView(
    row: ConversationRow,
    userId: string,
    readSeq: number,
    members?: readonly MemberRow[],
  ): Promise<Conversation> {
    return (await this.memberViews(row, [{ userId, readSeq }], members))[0]!;
  }

  /** The views of several members of one conversation, its shared reads made once. */
  private async memberViews(
    row: ConversationRow,
    readers: ReadonlyArray<{ userId: string; readSeq: number }>,
    members?: readonly MemberRow[],
  ): Promise<Conversation[]> {
    const [mentions, shown] = await Promise.all([
      this.mentions.unreadCounts(row.conversationId, row.lastSeq, readers),
      this.withLastReply(row),
    ]);
    return readers.map((r) => conversationView(shown, r.readSeq, members, mentions.get(r.userId) ?? 0));
  }

  /** The row with its last message's reply quote filled in from the root as it is now. */
  private async withLastReply(row: ConversationRow): Promise<ConversationRow> {
    const last = row.lastMessage;
    if (!last?.replyTo) return row;
    const root = await this.messages.get(row.conversationId, last.replyTo.seq);
    return { ...row, lastMessage: { ...last, replyTo: replyRefOf(last.replyTo.seq, root) } };
  }

  /** Past the fan-out threshold (ADR 0007), or past what is announced one member at a time. */
  private sharesViews(row: ConversationRow): boolean {
    return this.live.isLarge(row.memberCount) || row.memberCount > PER_MEMBER_VIEWS_MAX;
  }

  /** conversation.updated once for every member: settings and counts, nobody's read marker. */
  private async publishSharedView(row: ConversationRow): Promise<void> {
    const members = await this.members.members(row.conversationId, VIEW_MEMBERS);
    this.live.publishToConversation(row, {
      event: {
        $case: 'conversationUpdated',
        value: sharedConversationView(await this.withLastReply(row), members),
      },
    });
  }

  async requireUsers(caller: Caller, userIds: readonly string[]): Promise<void> {
    const found = await this.auth.existingInTenant(caller, userIds);
    const missing = userIds.filter((u) => !found.has(u));
    if (missing.length > 0)
      throw new AppError('invalid_argument', `memberIds: unknown users ${missing.slice(0, 5).join(', ')}`);
  }

  /** Membership changed: caches everywhere forget it; conversation.updated to everyone concerned. */
  private async announce(
    row: ConversationRow,
    audience: readonly string[],
    removed: readonly string[],
    added: readonly string[] = [],
  ): Promise<void> {
    this.membership.announceChange(row.conversationId);
    // a large conversation's members get one shared view; those removed, their own last one, and
    // those added their own first one (a gateway may not know them as members of it yet)
    const shared = this.sharesViews(row) || audience.length > PER_MEMBER_VIEWS_MAX;
    if (shared) await this.publishSharedView(row);
    const members = await this.members.members(row.conversationId, VIEW_MEMBERS);
    const told = [...new Set(shared ? [...removed, ...added] : audience)];
    // one removed reads it to the end: nothing unread is left to count
    const readers = [
      ...(await this.readersOf(
        row.conversationId,
        told.filter((u) => !removed.includes(u)),
      )),
      ...told.filter((u) => removed.includes(u)).map((userId) => ({ userId, readSeq: row.lastSeq })),
    ];
    const views = await this.memberViews(row, readers, members);
    readers.forEach(({ userId }, i) =>
      this.live.publish([userId], { event: { $case: 'conversationUpdated', value: views[i]! } }),
    );
  }

  /** The members' read markers, one read each. */
  private async readersOf(
    conversationId: string,
    userIds: readonly string[],
  ): Promise<Array<{ userId: string; readSeq: number }>> {
    const markers = await Promise.all(userIds.map((u) => this.members.membership(u, conversationId)));
    return userIds.map((userId, i) => ({ userId, readSeq: markers[i]?.readSeq ?? 0 }));
  }
}
