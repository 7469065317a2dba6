import { Injectable } from '@nestjs/common';
import { meter } from '@im/platform/telemetry';
import { MembersTable } from '../storage/members.table.js';

/** A user's set is read again when an id is missing from it and it is older than this. */
const RELOAD_AFTER_MS = 5_000;
/** Ids held across all sets; past it the oldest sets go (a user may be in thousands). */
const MAX_IDS = 2_000_000;

export const membershipReads = meter().createCounter('im_membership_reads_total', {
  description: 'membership reads from the database, by kind (one membership, or a user’s whole set)',
});

/**
 * The conversations each user is in, by id: a quick "no" for ids the user is not in, so a client
 * naming random conversations (typing) costs at most one read of its set every few seconds, not a
 * read per id. Only a filter: "in the set" still goes through the exact membership check, and a
 * conversation joined since the set was read shows up once it is read again.
 */
@Injectable()
export class ConversationSets {
  private readonly sets = new Map<string, { ids: Set<string>; readAt: number }>();
  private held = 0;

  constructor(private readonly members: MembersTable) {}

  async mayBeIn(userId: string, conversationId: string): Promise<boolean> {
    const known = this.sets.get(userId);
    if (known?.ids.has(conversationId)) return true;
    if (known && Date.now() - known.readAt < RELOAD_AFTER_MS) return false;
    membershipReads.add(1, { kind: 'conversation_set' });
    const ids = new Set(await this.members.conversationIdsOf(userId));
    this.keep(userId, { ids, readAt: Date.now() });
    return ids.has(conversationId);
  }

  private keep(userId: string, entry: { ids: Set<string>; readAt: number }): void {
    this.held -= this.sets.get(userId)?.ids.size ?? 0;
    this.sets.delete(userId); // re-inserted last: the map's order is oldest read first
    this.sets.set(userId, entry);
    this.held += entry.ids.size;
    for (const [user, oldest] of this.sets) {
      if (this.held <= MAX_IDS || user === userId) break;
      this.sets.delete(user);
      this.held -= oldest.ids.size;
    }
  }
}
