import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import {
  subscribeMembersDeltas,
  type MembersDelta,
  type NatsConnection,
  type Subscription,
} from '@im/platform/nats';
import { NATS, REGISTRY } from '@im/platform/nest';
import type { Registry } from '@im/platform/registry';
import { ConversationsTable } from '../storage/conversations.table.js';
import { MembersTable, type MemberRow, type MembershipRow } from '../storage/members.table.js';
import { ConversationSets, membershipReads } from './conversation-sets.js';

const TTL_MS = 30_000;
const MAX_ENTRIES = 200_000;
/** Conversations whose last drop is remembered: far more drops than happen while one read is in flight. */
const MAX_DROPS = 10_000;
/** Beyond this many ids in one change, gateways reload the member set instead of patching it (and replicas keep their conversation sets for their 5 s). */
const DELTA_MAX_IDS = 10_000;

interface Entry<T> {
  value: T;
  until: number;
}

/**
 * Membership lookups on the hot path (every send checks the sender, every message fans out to the
 * members), cached for 30 s. A change anywhere is announced on NATS and every replica drops the
 * conversation's entries at once; the TTL bounds staleness if an announcement is lost.
 */
@Injectable()
export class MembershipCache implements OnModuleInit, OnApplicationShutdown {
  /** By conversation, then user: a change drops its conversation's at once. MAX_ENTRIES in all. */
  private readonly memberships = new Map<string, Map<string, Entry<MembershipRow | null>>>();
  private membershipEntries = 0;
  private readonly members = new Map<string, Entry<MemberRow[]>>();
  /** A conversation's tenant never changes: cached without expiry (bounded). */
  private readonly tenants = new Map<string, string>();
  /** What decides whether members may write (archived, announcement), forgotten on every change. */
  private readonly settings = new Map<string, Entry<{ archived: boolean; announcement: boolean } | null>>();
  private subs: Subscription[] = [];
  /**
   * Counts drops. A read that was in flight across a drop of its conversation (or of everything)
   * may hold what the change replaced: it answers its caller but is not kept.
   */
  private epoch = 0;
  /** The epoch of each conversation's last drop (the latest MAX_DROPS). */
  private readonly droppedAt = new Map<string, number>();
  /** The epoch of the last drop of everything. */
  private clearedAt = 0;
  /** The latest epoch no longer in droppedAt: a conversation not listed may have been dropped then. */
  private forgottenUpTo = 0;

  constructor(
    private readonly table: MembersTable,
    private readonly conversations: ConversationsTable,
    private readonly sets: ConversationSets,
    @Inject(NATS) private readonly nats: NatsConnection,
    @Inject(REGISTRY) private readonly registry: Registry,
  ) {}

  onModuleInit(): void {
    this.subs.push(
      this.nats.subscribe(this.registry.subjects.membershipChanged, {
        callback: (_err, msg) => this.forgetConversation(msg.string()),
      }),
      // who joined or left: their conversation sets are read again (a reset, too many to list,
      // leaves them to their 5 s reuse rather than dropping every user's set)
      subscribeMembersDeltas(this.nats, this.registry.subjects.conversationMembersChanged, (delta) =>
        this.sets.forget([...(delta.added ?? []), ...(delta.removed ?? [])]),
      ),
    );
    // announcements sent while disconnected are lost: after a reconnect, trust nothing cached
    void (async () => {
      for await (const s of this.nats.status())
        if (s.type === 'reconnect') {
          this.clearedAt = ++this.epoch;
          this.members.clear();
          this.memberships.clear();
          this.membershipEntries = 0;
          this.settings.clear();
          this.sets.clear();
        }
    })().catch(() => undefined);
  }

  /**
   * Every cached member list: a sequencer that takes over partitions copies each conversation's
   * activity to its members (ADR 0032), and a list older than another owner's changes would miss some.
   */
  forgetMemberLists(): void {
    this.clearedAt = ++this.epoch;
    this.members.clear();
  }

  onApplicationShutdown(): void {
    for (const sub of this.subs) sub.unsubscribe();
  }

  async membership(userId: string, conversationId: string): Promise<MembershipRow | undefined> {
    const hit = this.memberships.get(conversationId)?.get(userId);
    if (hit && hit.until > Date.now()) return hit.value ?? undefined;
    membershipReads.add(1, { kind: 'membership' });
    const epoch = this.epoch;
    const value = (await this.table.membership(userId, conversationId)) ?? null;
    if (this.mayKeep(conversationId, epoch)) this.keepMembership(conversationId, userId, value);
    return value ?? undefined;
  }

  async membersOf(conversationId: string): Promise<MemberRow[]> {
    const hit = this.members.get(conversationId);
    if (hit && hit.until > Date.now()) return hit.value;
    const epoch = this.epoch;
    const value = await this.table.members(conversationId);
    this.put(this.members, conversationId, value, epoch);
    return value;
  }

  async tenantOf(conversationId: string): Promise<string | undefined> {
    const known = this.tenants.get(conversationId);
    if (known) return known;
    const row = await this.conversations.get(conversationId);
    if (row) {
      if (this.tenants.size >= MAX_ENTRIES) this.tenants.delete(this.tenants.keys().next().value!);
      this.tenants.set(conversationId, row.tenantId);
    }
    return row?.tenantId;
  }

  async writeSettingsOf(
    conversationId: string,
  ): Promise<{ archived: boolean; announcement: boolean } | undefined> {
    const hit = this.settings.get(conversationId);
    if (hit && hit.until > Date.now()) return hit.value ?? undefined;
    const epoch = this.epoch;
    const row = await this.conversations.get(conversationId);
    const value = row ? { archived: row.archived, announcement: row.announcement } : null;
    this.put(this.settings, conversationId, value, epoch);
    return value ?? undefined;
  }

  /**
   * Drops cached entries here and tells the other replicas to do the same; with who joined and
   * left (the sequencer knows), tells the gateways too, which patch their member sets, and every
   * replica, which drops those users' conversation sets.
   */
  announceChange(conversationId: string, delta?: { added: string[]; removed: string[] }): void {
    this.forgetConversation(conversationId);
    this.nats.publish(this.registry.subjects.membershipChanged, conversationId);
    if (delta) this.announceMembers(conversationId, delta);
  }

  /**
   * Who joined and left, alone: for a conversation just made, of which nothing is cached yet. This
   * replica's sets go at once, the others' when the announcement reaches them.
   */
  announceMembers(conversationId: string, delta: { added: string[]; removed: string[] }): void {
    this.sets.forget([...delta.added, ...delta.removed]);
    const body: MembersDelta =
      delta.added.length + delta.removed.length > DELTA_MAX_IDS
        ? { conversationId, reset: true }
        : { conversationId, ...delta };
    this.nats.publish(this.registry.subjects.conversationMembersChanged, JSON.stringify(body));
  }

  private forgetConversation(conversationId: string): void {
    this.droppedAt.delete(conversationId); // re-inserted as the newest
    if (this.droppedAt.size >= MAX_DROPS) {
      const [oldest, at] = this.droppedAt.entries().next().value!;
      this.droppedAt.delete(oldest);
      this.forgottenUpTo = at;
    }
    this.droppedAt.set(conversationId, ++this.epoch);
    this.members.delete(conversationId);
    this.settings.delete(conversationId);
    this.dropMemberships(conversationId);
  }

  private keepMembership(conversationId: string, userId: string, value: MembershipRow | null): void {
    let users = this.memberships.get(conversationId);
    if (!users) this.memberships.set(conversationId, (users = new Map()));
    if (!users.has(userId)) this.membershipEntries++;
    users.set(userId, { value, until: Date.now() + TTL_MS });
    while (this.membershipEntries > MAX_ENTRIES) this.dropMemberships(this.memberships.keys().next().value!);
  }

  private dropMemberships(conversationId: string): void {
    const users = this.memberships.get(conversationId);
    if (!users) return;
    this.membershipEntries -= users.size;
    this.memberships.delete(conversationId);
  }

  /** Whether what a read of `conversationId` that began at `epoch` found may be kept: not dropped since. */
  private mayKeep(conversationId: string, epoch: number): boolean {
    return this.clearedAt <= epoch && (this.droppedAt.get(conversationId) ?? this.forgottenUpTo) <= epoch;
  }

  /** For the maps keyed by conversation: keeps what a read that began at `epoch` found, if it may. */
  private put<T>(map: Map<string, Entry<T>>, key: string, value: T, epoch: number): void {
    if (!this.mayKeep(key, epoch)) return;
    if (map.size >= MAX_ENTRIES) map.delete(map.keys().next().value!);
    map.set(key, { value, until: Date.now() + TTL_MS });
  }
}
