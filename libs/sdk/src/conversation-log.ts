import type { Message } from '@im/proto/client/v1';

export interface Gap {
  conversationId: string;
  /** Heal with sync { conversationId, afterSeq }. */
  afterSeq: number;
  missingFrom: number;
  missingTo: number;
}

/**
 * What a client needs for "at-least-once delivery, exactly-once effect": it keeps each
 * conversation's messages by seq, drops duplicates, and reports gaps (a seq arrived but an
 * earlier one did not), which the client heals with sync.
 */
export class ConversationLog {
  private readonly byConversation = new Map<string, Map<number, Message>>();
  private readonly contiguous = new Map<string, number>();

  /** Adds a message; false when it was a duplicate. */
  add(message: Message): boolean {
    let seqs = this.byConversation.get(message.conversationId);
    if (!seqs) this.byConversation.set(message.conversationId, (seqs = new Map()));
    if (seqs.has(message.seq)) return false;
    seqs.set(message.seq, message);
    let upTo = this.contiguous.get(message.conversationId) ?? 0;
    while (seqs.has(upTo + 1)) upTo++;
    this.contiguous.set(message.conversationId, upTo);
    return true;
  }

  /**
   * Applies a changed message (message.updated, sync's `updated`): it replaces the held one when
   * its version is newer; false when it changed nothing. Adds it when not held yet.
   */
  update(message: Message): boolean {
    const held = this.byConversation.get(message.conversationId)?.get(message.seq);
    if (!held) return this.add(message);
    if (held.version >= message.version) return false;
    this.byConversation.get(message.conversationId)!.set(message.seq, message);
    return true;
  }

  /**
   * The client holds this conversation from `seq` on: older messages are history it has not loaded
   * (not a gap). Typically lastSeq + 1 of the conversation list, so only what comes later must be
   * contiguous.
   */
  startAt(conversationId: string, seq: number): void {
    const seqs = this.byConversation.get(conversationId) ?? new Map<number, Message>();
    this.byConversation.set(conversationId, seqs);
    let upTo = Math.max(this.contiguous.get(conversationId) ?? 0, seq - 1);
    while (seqs.has(upTo + 1)) upTo++;
    this.contiguous.set(conversationId, upTo);
  }

  /** Lowest seq held (0 when none): where loading older history continues. */
  lowest(conversationId: string): number {
    const seqs = this.byConversation.get(conversationId);
    return seqs && seqs.size > 0 ? Math.min(...seqs.keys()) : 0;
  }

  /** Highest seq such that every seq from the start (1, or startAt) up to it is present. */
  contiguousUpTo(conversationId: string): number {
    return this.contiguous.get(conversationId) ?? 0;
  }

  highest(conversationId: string): number {
    const seqs = this.byConversation.get(conversationId);
    return seqs && seqs.size > 0 ? Math.max(...seqs.keys()) : 0;
  }

  gaps(): Gap[] {
    const out: Gap[] = [];
    for (const [conversationId, seqs] of this.byConversation) {
      const upTo = this.contiguousUpTo(conversationId);
      const above = [...seqs.keys()].filter((s) => s > upTo);
      if (above.length > 0)
        out.push({
          conversationId,
          afterSeq: upTo,
          missingFrom: upTo + 1,
          missingTo: Math.min(...above) - 1,
        });
    }
    return out;
  }

  /** The conversation's messages in seq order. */
  messages(conversationId: string): Message[] {
    return [...(this.byConversation.get(conversationId)?.values() ?? [])].sort((a, b) => a.seq - b.seq);
  }
}
