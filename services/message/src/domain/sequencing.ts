/**
 * The sequencer's decisions for one conversation's commands of a batch, without I/O.
 *
 * Commands arrive in partition order and are decided one by one against a SequencingState. A
 * send whose (sender, clientMsgId) already holds a claim (stored, or earlier in this batch) gets
 * that seq back; any other send takes lastSeq + 1. Because claims are written before message
 * rows and offsets are committed after both, replaying a batch after a crash reproduces exactly
 * the same seqs: the claims written before the crash are found again, and unclaimed sends get the
 * same numbers as before from the same recovered lastSeq.
 */
import {
  applyUpdate,
  type ConversationUpdateState,
  type MessageState,
  type UpdateCommand,
  type UpdateOutcome,
} from './message-updates.js';

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

export interface SendCommand extends ClaimKey {
  kind: 'send';
  messageId: string;
}

export interface ReadCommand {
  kind: 'read';
  userId: string;
  seq: number;
}

export type PlannedCommand = SendCommand | ReadCommand;

export type Decision =
  /** A new message: write its claim and row at seq. */
  | { kind: 'new'; seq: number; messageId: string }
  /** Already claimed (stored before, or replay): answer with the stored message at seq. */
  | { kind: 'existing'; seq: number; messageId: string }
  /** Same sender and clientMsgId earlier in this batch: answer like command #index. */
  | { kind: 'duplicate'; of: number }
  /** Read marker: the resulting read seq, and whether it moved. */
  | { kind: 'read'; readSeq: number; moved: boolean }
  /** An edit, delete or reaction applied at the next version; or refused (below). */
  | UpdateOutcome
  /** The conversation's settings changed at this version. */
  | { kind: 'conversationChanged'; version: number }
  /** Refused, with a stable error code; nothing is written. */
  | { kind: 'refused'; code: 'not_found' | 'forbidden'; message: string };

/**
 * One conversation while a batch of its commands is decided, in order. Each command kind has its
 * operation here (send, read; the seam for edits, reactions, pins and membership changes).
 */
export class SequencingState {
  private seq: number;
  private version: number;
  private readonly inBatch = new Map<string, number>();
  private readonly moved = new Map<string, number>();

  /**
   * @param lastSeq the conversation's stored last seq
   * @param claims stored claims of this batch's sends, by claimId()
   * @param readSeqs stored read markers of this batch's readers and senders; a user without one is
   *   not a member
   * @param lastVersion the conversation's stored update counter
   * @param messages the stored state of the messages this batch updates, by seq
   * @param updates the conversation's stored state that updates depend on (pin count)
   */
  constructor(
    lastSeq: number,
    private readonly claims: ReadonlyMap<string, Claim>,
    private readonly readSeqs: ReadonlyMap<string, number>,
    lastVersion = 0,
    private readonly messages: ReadonlyMap<number, MessageState> = new Map(),
    private readonly updates: ConversationUpdateState = { pinned: 0 },
  ) {
    this.seq = lastSeq;
    this.version = lastVersion;
  }

  get lastSeq(): number {
    return this.seq;
  }

  get lastVersion(): number {
    return this.version;
  }

  /** Messages changed in this batch, in their state after it. */
  get updatedMessages(): ReadonlyMap<number, MessageState> {
    return this.messages;
  }

  /** A change of the conversation's settings: the next version, when the caller may. */
  updateSettings(allowed: boolean): Decision {
    if (!allowed)
      return {
        kind: 'refused',
        code: 'forbidden',
        message: 'only admins and the owner of a group or channel change its settings',
      };
    this.version += 1;
    return { kind: 'conversationChanged', version: this.version };
  }

  /** An edit, delete or reaction: the next version when accepted. */
  update(cmd: UpdateCommand): Decision {
    const outcome = applyUpdate(
      cmd.seq <= this.seq ? this.messages.get(cmd.seq) : undefined,
      cmd,
      this.version + 1,
    );
    if (outcome.kind === 'updated') this.version = outcome.version;
    return outcome;
  }

  /** Read markers that moved in this batch (readers, and senders of new messages). */
  get readSeqsMoved(): ReadonlyMap<string, number> {
    return this.moved;
  }

  /** A send; `index` names it for later duplicates in the same batch. */
  send(cmd: SendCommand, index: number): Decision {
    const key = claimId(cmd);
    const earlier = this.inBatch.get(key);
    if (earlier !== undefined) return { kind: 'duplicate', of: earlier };
    this.inBatch.set(key, index);
    const claim = this.claims.get(key);
    if (claim) {
      // a claim above the recovered lastSeq belongs to a replayed batch: keep counting after it
      this.seq = Math.max(this.seq, claim.seq);
      return { kind: 'existing', seq: claim.seq, messageId: claim.messageId };
    }
    this.seq += 1;
    // one's own messages are read: the sender's marker follows (members only)
    const senderRead = this.readSeqOf(cmd.senderId);
    if (senderRead !== undefined && this.seq > senderRead) this.moved.set(cmd.senderId, this.seq);
    return { kind: 'new', seq: this.seq, messageId: cmd.messageId };
  }

  /** A read marker: only forward, never past the last message; members only. */
  read(cmd: ReadCommand): Decision {
    const current = this.readSeqOf(cmd.userId);
    // a member removed after the command was accepted must not get a row back
    if (current === undefined) return { kind: 'refused', code: 'not_found', message: 'no such conversation' };
    const wanted = Math.min(Math.max(cmd.seq, 0), this.seq);
    if (wanted <= current) return { kind: 'read', readSeq: current, moved: false };
    this.moved.set(cmd.userId, wanted);
    return { kind: 'read', readSeq: wanted, moved: true };
  }

  private readSeqOf(userId: string): number | undefined {
    return this.moved.get(userId) ?? this.readSeqs.get(userId);
  }
}

export interface ConversationPlan {
  decisions: Decision[];
  lastSeq: number;
  /** Read markers after the batch, for the users whose marker moved (readers and senders). */
  readSeqs: ReadonlyMap<string, number>;
}

/** Decides a whole batch at once (what the sequencer does command by command). */
export function planConversation(
  commands: readonly PlannedCommand[],
  lastSeq: number,
  claims: ReadonlyMap<string, Claim>,
  readSeqs: ReadonlyMap<string, number>,
): ConversationPlan {
  const state = new SequencingState(lastSeq, claims, readSeqs);
  const decisions = commands.map((c, i) => (c.kind === 'send' ? state.send(c, i) : state.read(c)));
  return { decisions, lastSeq: state.lastSeq, readSeqs: state.readSeqsMoved };
}
