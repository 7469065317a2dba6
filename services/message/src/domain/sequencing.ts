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
  applyMembershipChange,
  type MembershipChange,
  type MembershipOutcome,
  type Roster,
} from './membership-changes.js';
import {
  applyUpdate,
  type ConversationUpdateState,
  type MessageState,
  type UpdateCommand,
  type UpdateOutcome,
} from './message-updates.js';
import { mayChangeSettings } from './conversation-rules.js';

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
  /** A reply: its thread's root, and when the send was accepted (the root's lastReplyAt). */
  reply?: { root: number; at: Date };
}

/** A root's update for a reply stored now. */
export type ThreadUpdate = Extract<UpdateOutcome, { kind: 'updated' }>;

export interface ReadCommand {
  kind: 'read';
  userId: string;
  seq: number;
}

export type PlannedCommand = SendCommand | ReadCommand;

export type Decision =
  /** A new message: write its claim and row at seq (and, for a reply, its root's new counts). */
  | { kind: 'new'; seq: number; messageId: string; thread?: ThreadUpdate }
  /**
   * Already claimed (stored before, or replay): answer with the stored message at seq; `thread`
   * when a replay finds its reply not yet counted by the root.
   */
  | { kind: 'existing'; seq: number; messageId: string; thread?: ThreadUpdate }
  /** Same sender and clientMsgId earlier in this batch: answer like command #index. */
  | { kind: 'duplicate'; of: number }
  /** Read marker: the resulting read seq, and whether it moved. */
  | { kind: 'read'; readSeq: number; moved: boolean }
  /** An edit, delete or reaction applied at the next version; or refused (below). */
  | UpdateOutcome
  /** The conversation's settings changed at this version. */
  | { kind: 'conversationChanged'; version: number }
  /** Members were added, removed or changed at this version; or refused (a MembershipRefusal). */
  | MembershipOutcome
  /** Refused, with a stable error code; nothing is written. */
  | { kind: 'refused'; code: 'not_found' | 'forbidden' | 'invalid_argument' | 'conflict'; message: string };

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
   * @param roster the members that membership changes touch, and the member count
   */
  constructor(
    lastSeq: number,
    private readonly claims: ReadonlyMap<string, Claim>,
    private readonly readSeqs: ReadonlyMap<string, number>,
    lastVersion = 0,
    private readonly messages: ReadonlyMap<number, MessageState> = new Map(),
    private readonly updates: ConversationUpdateState = { pinned: 0 },
    private readonly roster: Roster = { type: 'group', members: new Map(), count: 0 },
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

  /**
   * A change of the conversation's settings: the next version, when the caller may, both when it
   * was accepted and now (an admin demoted or removed by an earlier command may not; nor anyone
   * once the last member left and closed it: they are no member then).
   */
  updateSettings(allowed: boolean, callerId: string): Decision {
    const member = this.roster.members.get(callerId);
    if (!allowed || !member || !mayChangeSettings(this.roster.type, member.role))
      return {
        kind: 'refused',
        code: 'forbidden',
        message: 'only admins and the owner of a group or channel change its settings',
      };
    this.version += 1;
    return { kind: 'conversationChanged', version: this.version };
  }

  /** A membership change: the next version when accepted. */
  changeMembers(change: MembershipChange): Decision {
    const outcome = applyMembershipChange(this.roster, change, this.version + 1);
    if (outcome.kind === 'membersChanged') {
      this.version = outcome.version;
      outcome.readSeq = this.seq;
      // a removed member's marker no longer counts; an added one starts with everything read
      for (const u of outcome.removed) this.moved.delete(u);
    }
    return outcome;
  }

  /** The member count after the membership changes decided so far. */
  get memberCount(): number {
    return this.roster.count;
  }

  /** An edit, delete or reaction: the next version when accepted. */
  update(cmd: UpdateCommand): Decision {
    const outcome = applyUpdate(
      cmd.seq <= this.seq ? this.messages.get(cmd.seq) : undefined,
      cmd,
      this.version + 1,
      this.updates,
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
    const claim = this.claims.get(key);
    // a refused send is not remembered: a retry in the same batch is decided (and refused) again
    if (claim || !this.replyRefusal(cmd)) this.inBatch.set(key, index);
    if (claim) {
      // a claim above the recovered lastSeq belongs to a replayed batch: keep counting after it
      this.seq = Math.max(this.seq, claim.seq);
      // only a replay of the command that stored it (same message id) may count it: a client's
      // retry is another command, and its replyTo need not be the stored one
      const replay = claim.messageId === cmd.messageId;
      const thread = cmd.reply && replay ? this.countReply(cmd.reply, claim.seq) : undefined;
      return { kind: 'existing', seq: claim.seq, messageId: claim.messageId, ...(thread ? { thread } : {}) };
    }
    const refusal = this.replyRefusal(cmd);
    if (refusal) return refusal;
    this.seq += 1;
    // one's own messages are read: the sender's marker follows (members only)
    const senderRead = this.readSeqOf(cmd.senderId);
    if (senderRead !== undefined && this.seq > senderRead) this.moved.set(cmd.senderId, this.seq);
    const thread = cmd.reply ? this.countReply(cmd.reply, this.seq) : undefined;
    return { kind: 'new', seq: this.seq, messageId: cmd.messageId, ...(thread ? { thread } : {}) };
  }

  /** Why a new reply cannot be stored: its root is missing, deleted, or itself a reply. */
  private replyRefusal(cmd: SendCommand): Extract<Decision, { kind: 'refused' }> | undefined {
    if (!cmd.reply) return undefined;
    const { root: seq } = cmd.reply;
    const root = seq <= this.seq ? this.messages.get(seq)?.message : undefined;
    if (!root || root.deleted)
      return { kind: 'refused', code: 'invalid_argument', message: `replyTo: no message at seq ${seq}` };
    if (root.replyTo)
      return {
        kind: 'refused',
        code: 'invalid_argument',
        message: `replyTo: seq ${seq} is itself a reply (threads are one level deep)`,
      };
    return undefined;
  }

  /**
   * The root counts the reply at replySeq (the next version), unless it already has: replies of a
   * root are sequenced in seq order, so one at or below its lastReplySeq was counted before a crash.
   */
  private countReply(reply: { root: number; at: Date }, replySeq: number): ThreadUpdate | undefined {
    const root = this.messages.get(reply.root);
    if (!root || root.message.deleted || replySeq <= root.message.lastReplySeq) return undefined;
    const outcome = applyUpdate(
      root,
      { kind: 'replied', seq: reply.root, replySeq, at: reply.at },
      this.version + 1,
    );
    if (outcome.kind !== 'updated') return undefined;
    this.version = outcome.version;
    return outcome;
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
