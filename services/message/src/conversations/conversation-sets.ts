import { performance } from 'node:perf_hooks';
import { Injectable } from '@nestjs/common';
import { meter } from '@im/platform/telemetry';
import { MembersTable } from '../storage/members.table.js';

/** A user's set is read again when an id is missing from it and it is older than this. */
const RELOAD_AFTER_MS = 5_000;
/** Ids (and users) held across all sets; past it the oldest sets go (a user may be in thousands). */
const MAX_HELD = 500_000;

export const membershipReads = meter().createCounter('im_membership_reads_total', {
  description:
    'membership reads from the database by the membership cache and the conversation sets, by kind (one membership, or a user’s whole set)',
});

interface ConversationSet {
  ids: Set<string>;
  /** When the read that produced it began (monotonic clock). */
  readAt: number;
}

/**
 * The conversations each user is in, by id: a quick "no" for ids the user is not in, so a client
 * naming random conversations (typing) costs at most one read of its set every few seconds, not a
 * read per id; and the scope of a search, read once for a user's searches of the next seconds.
 * Only a filter: "in the set" still goes through the exact membership check. A set is dropped
 * when its user joins or leaves anywhere (the member-change announcements, MembershipCache); one
 * lost announcement leaves it stale for at most RELOAD_AFTER_MS.
 */
@Injectable()
export class ConversationSets {
  private readonly sets = new Map<string, ConversationSet>();
  /** One read per user at a time: concurrent checks wait for the read in flight. */
  private readonly reading = new Map<string, Promise<ConversationSet>>();
  private held = 0;

  constructor(private readonly members: MembersTable) {}

  async mayBeIn(userId: string, conversationId: string): Promise<boolean> {
    const known = this.sets.get(userId);
    if (known?.ids.has(conversationId)) return true;
    if (known && performance.now() - known.readAt < RELOAD_AFTER_MS) return false;
    return (await this.read(userId)).ids.has(conversationId);
  }

  /** Every conversation id of the user, as read at most RELOAD_AFTER_MS ago (search's scope). */
  async idsOf(userId: string): Promise<ReadonlySet<string>> {
    const known = this.sets.get(userId);
    if (known && performance.now() - known.readAt < RELOAD_AFTER_MS) return known.ids;
    return (await this.read(userId)).ids;
  }

  /**
   * Those users joined or left somewhere: their sets are read again when next needed, and a read
   * already under way (begun before the change) is not kept.
   */
  forget(userIds: Iterable<string>): void {
    for (const userId of userIds) {
      this.reading.delete(userId);
      const known = this.sets.get(userId);
      if (!known) continue;
      this.sets.delete(userId);
      this.held -= 1 + known.ids.size;
    }
  }

  clear(): void {
    this.reading.clear();
    this.sets.clear();
    this.held = 0;
  }

  private read(userId: string): Promise<ConversationSet> {
    const inFlight = this.reading.get(userId);
    if (inFlight) return inFlight;
    const readAt = performance.now();
    membershipReads.add(1, { kind: 'conversation_set' });
    const read: Promise<ConversationSet> = this.members
      .conversationIdsOf(userId)
      .then((ids) => {
        const entry = { ids: new Set(ids), readAt };
        // forgotten meanwhile: answers this caller, is not kept for the next
        return this.reading.get(userId) === read ? this.keep(userId, entry) : entry;
      })
      .finally(() => {
        if (this.reading.get(userId) === read) this.reading.delete(userId);
      });
    this.reading.set(userId, read);
    return read;
  }

  private keep(userId: string, entry: ConversationSet): ConversationSet {
    const size = (e: ConversationSet | undefined) => (e ? 1 + e.ids.size : 0);
    this.held -= size(this.sets.get(userId));
    this.sets.delete(userId); // re-inserted last: the map's order is oldest read first
    this.sets.set(userId, entry);
    this.held += size(entry);
    for (const [user, oldest] of this.sets) {
      if (this.held <= MAX_HELD || user === userId) break;
      this.sets.delete(user);
      this.held -= size(oldest);
    }
    return entry;
  }
}
