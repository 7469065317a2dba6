/**
 * The sequencer's decisions for one batch of commands of one conversation, without I/O.
 *
 * Commands arrive in partition order. A send whose (sender, clientMsgId) already holds a claim
 * (stored, or earlier in this batch) gets that seq back; any other send takes lastSeq + 1. Because claims are
 * written before message rows and offsets are committed after both, replaying a batch after a
 * crash reproduces exactly the same seqs: the claims written before the crash are found again,
 * and unclaimed sends get the same numbers as before from the same recovered lastSeq.
 */
export interface Claim {
  seq: number;
  messageId: string;
}

/** What a claim is keyed by within a conversation (DESIGN §2.3): the sender and its clientMsgId. */
export interface ClaimKey {
  senderId: string;
  clientMsgId: string;
}

/** A map key for a ClaimKey. */
export const claimId = (k: ClaimKey): string => `${k.senderId}\u0000${k.clientMsgId}`;

export type PlannedCommand =
  | { kind: 'send'; clientMsgId: string; messageId: string; senderId: string }
  | { kind: 'read'; userId: string; seq: number };

export type Decision =
  /** A new message: write its claim and row at seq. */
  | { kind: 'new'; seq: number; messageId: string }
  /** Already claimed (stored before, or replay): answer with the stored message at seq. */
  | { kind: 'existing'; seq: number; messageId: string }
  /** Same sender and clientMsgId earlier in this batch: answer like command #index. */
  | { kind: 'duplicate'; of: number }
  /** Read marker: the resulting read seq, and whether it moved. */
  | { kind: 'read'; readSeq: number; moved: boolean };

export interface ConversationPlan {
  decisions: Decision[];
  lastSeq: number;
  /** Read markers after the batch, for the users whose marker moved (readers and senders). */
  readSeqs: Map<string, number>;
}

export function planConversation(
  commands: readonly PlannedCommand[],
  lastSeq: number,
  /** Stored claims by claimId(). */
  claims: ReadonlyMap<string, Claim>,
  readSeqs: ReadonlyMap<string, number>,
): ConversationPlan {
  let seq = lastSeq;
  const inBatch = new Map<string, number>();
  const reads = new Map<string, number>();
  const decisions: Decision[] = commands.map((cmd, index): Decision => {
    if (cmd.kind === 'send') {
      const key = claimId(cmd);
      const earlier = inBatch.get(key);
      if (earlier !== undefined) return { kind: 'duplicate', of: earlier };
      inBatch.set(key, index);
      const claim = claims.get(key);
      if (claim) {
        // a claim above the recovered lastSeq belongs to a replayed batch: keep counting after it
        seq = Math.max(seq, claim.seq);
        return { kind: 'existing', seq: claim.seq, messageId: claim.messageId };
      }
      seq += 1;
      // one's own messages are read: the sender's marker follows (members only, see readSeqs)
      const senderRead = reads.get(cmd.senderId) ?? readSeqs.get(cmd.senderId);
      if (senderRead !== undefined && seq > senderRead) reads.set(cmd.senderId, seq);
      return { kind: 'new', seq, messageId: cmd.messageId };
    }
    const current = reads.get(cmd.userId) ?? readSeqs.get(cmd.userId) ?? 0;
    const wanted = Math.min(Math.max(cmd.seq, 0), seq);
    if (wanted > current) {
      reads.set(cmd.userId, wanted);
      return { kind: 'read', readSeq: wanted, moved: true };
    }
    return { kind: 'read', readSeq: current, moved: false };
  });
  return { decisions, lastSeq: seq, readSeqs: reads };
}
