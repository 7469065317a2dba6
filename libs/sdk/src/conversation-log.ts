import type { Message } from '@im/proto/client/v1';

export interface Gap {
  conversationId: string;
  /** Heal with sync { conversationId, afterSeq }. */
  afterSeq: number;
  missingFrom: number;
  missingTo: number;
}

interface Held {
  bySeq: Map<number, Message>;
  /** Every seq from the start (1, or startAt) up to this one is held. */
  contiguous: number;
  lowest: number;
  highest: number;
}

/**
 * What a client needs for "at-least-once delivery, exactly-once effect": it keeps each
 * conversation's messages by seq, drops duplicates, and reports gaps (a seq arrived but an
 * earlier one did not), which the client heals with sync.
 */
export class ConversationLog {
  private readonly conversations = new Map<string, Held>();

  /** Adds a message; false when it was a duplicate. */
  add(message: Message): boolean {
    const held = this.held(message.conversationId);
    if (held.bySeq.has(message.seq)) return false;
    held.bySeq.set(message.seq, message);
    held.lowest = held.lowest === 0 ? message.seq : Math.min(held.lowest, message.seq);
    held.highest = Math.max(held.highest, message.seq);
    while (held.bySeq.has(held.contiguous + 1)) held.contiguous++;
    return true;
  }

  /**
   * Applies a changed message (message.updated, sync's `updated`): it replaces the held one when
   * its version is newer; false when it changed nothing. A change to a message not held is kept
   * only above the contiguous point (a message still to come); older ones are history not
   * loaded, which arrives in its current state when it is.
   */
  update(message: Message): boolean {
    const held = this.conversations.get(message.conversationId);
    const current = held?.bySeq.get(message.seq);
    const incoming = message.shared ? withOwnReactions(message, current) : message;
    if (!current) {
      if (held && message.seq <= held.contiguous) return false;
      return this.add(incoming);
    }
    if (current.version > message.version) return false;
    // the same version again: only one's own view after the shared one can say more (its `me`)
    if (current.version === message.version && (message.shared || sameReactions(current, message)))
      return false;
    held!.bySeq.set(message.seq, incoming);
    return true;
  }

  /** The message as held (a shared update merged with this user's own reactions). */
  get(conversationId: string, seq: number): Message | undefined {
    return this.conversations.get(conversationId)?.bySeq.get(seq);
  }

  /**
   * The client holds this conversation from `seq` on: older messages are history it has not loaded
   * (not a gap). Typically lastSeq + 1 of the conversation list, so only what comes later must be
   * contiguous.
   */
  startAt(conversationId: string, seq: number): void {
    const held = this.held(conversationId);
    held.contiguous = Math.max(held.contiguous, seq - 1);
    while (held.bySeq.has(held.contiguous + 1)) held.contiguous++;
  }

  /** Lowest seq held (0 when none): where loading older history continues. */
  lowest(conversationId: string): number {
    return this.conversations.get(conversationId)?.lowest ?? 0;
  }

  /** Highest seq such that every seq from the start (1, or startAt) up to it is present. */
  contiguousUpTo(conversationId: string): number {
    return this.conversations.get(conversationId)?.contiguous ?? 0;
  }

  highest(conversationId: string): number {
    return this.conversations.get(conversationId)?.highest ?? 0;
  }

  /** Whether a seq above the contiguous point is held (something before it is missing). */
  hasGap(conversationId: string): boolean {
    const held = this.conversations.get(conversationId);
    return !!held && held.highest > held.contiguous;
  }

  gaps(): Gap[] {
    const out: Gap[] = [];
    for (const [conversationId, held] of this.conversations) {
      if (held.highest <= held.contiguous) continue;
      let next = held.contiguous + 2;
      while (!held.bySeq.has(next)) next++;
      out.push({
        conversationId,
        afterSeq: held.contiguous,
        missingFrom: held.contiguous + 1,
        missingTo: next - 1,
      });
    }
    return out;
  }

  /** The conversation's messages in seq order. */
  messages(conversationId: string): Message[] {
    return [...(this.conversations.get(conversationId)?.bySeq.values() ?? [])].sort((a, b) => a.seq - b.seq);
  }

  private held(conversationId: string): Held {
    let held = this.conversations.get(conversationId);
    if (!held)
      this.conversations.set(
        conversationId,
        (held = { bySeq: new Map(), contiguous: 0, lowest: 0, highest: 0 }),
      );
    return held;
  }
}

/** A shared update (large conversations) carries nobody's `me`: this user's stays as it was. */
export function withOwnReactions(shared: Message, current: Message | undefined): Message {
  const mine = new Set((current?.reactions ?? []).filter((r) => r.me).map((r) => r.emoji));
  return {
    ...shared,
    shared: false,
    reactions: (shared.reactions ?? []).map((r) => ({ ...r, me: mine.has(r.emoji) })),
  };
}

function sameReactions(a: Message, b: Message): boolean {
  const [x, y] = [a.reactions ?? [], b.reactions ?? []];
  return (
    x.length === y.length &&
    x.every((r, i) => {
      const o = y[i]!;
      return r.emoji === o.emoji && r.count === o.count && r.me === o.me;
    })
  );
}
