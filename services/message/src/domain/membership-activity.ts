import { compareByActivity, type ListPosition } from './conversation-cursor.js';
import type { ConversationType } from './conversation-rules.js';

/**
 * A membership with the copy of its conversation's activity the sequencer keeps in it (ADR 0032):
 * the conversation's last seq and last activity as of its latest stored batch, or, before any, of
 * the member's join. Channels have no copy (their members are too many to write per message), nor
 * have rows written before the copy existed: those are placed by reading the conversation's row.
 */
export interface MembershipActivity {
  conversationId: string;
  readSeq: number;
  activitySeq?: number | undefined;
  activityAt?: Date | undefined;
}

/** Whether the sequencer copies a conversation's activity into its members' rows. */
export function copiesActivity(type: ConversationType): boolean {
  return type !== 'channel';
}

/** The memberships that carry no copy: their conversation's row has to be read to place them. */
export function withoutCopy(memberships: readonly MembershipActivity[]): string[] {
  return memberships.filter((m) => m.activityAt === undefined).map((m) => m.conversationId);
}

/**
 * Conversations that may hold messages after the member's read marker: those whose copy says so,
 * and those without a copy. Only these need their row read for a sync without cursors.
 */
export function maybeUnread(memberships: readonly MembershipActivity[]): string[] {
  return memberships
    .filter((m) => m.activityAt === undefined || (m.activitySeq ?? 0) > m.readSeq)
    .map((m) => m.conversationId);
}

/**
 * One page of the conversation list: positions from the copies, or from the rows read for those
 * without one (`activityOf`; a membership whose row is gone is left out), latest activity first,
 * after the cursor's position.
 */
export function listPage(
  memberships: readonly MembershipActivity[],
  activityOf: ReadonlyMap<string, Date>,
  after: ListPosition | undefined,
  size: number,
): { page: ListPosition[]; hasMore: boolean } {
  const ordered = memberships
    .flatMap((m) => {
      const at = m.activityAt ?? activityOf.get(m.conversationId);
      return at ? [{ activityMs: at.getTime(), id: m.conversationId }] : [];
    })
    .sort(compareByActivity);
  const start = after ? ordered.findIndex((p) => compareByActivity(p, after) > 0) : 0;
  if (start < 0) return { page: [], hasMore: false };
  return { page: ordered.slice(start, start + size), hasMore: start + size < ordered.length };
}

/** Unread messages counted from the copies, for conversations with one (the rest need their row). */
export function copiedUnread(m: MembershipActivity): number {
  return Math.max(0, (m.activitySeq ?? 0) - m.readSeq);
}
