import type { Statement } from '@im/platform/cassandra';
import type { Message } from '@im/proto/client/v1';
import type { CommandResult, ConversationCommand, ConversationEvent, LiveEvent } from '@im/proto/events/v1';
import type { MessageState } from '../domain/message-updates.js';
import type { MemberViews } from '../producers/live-publisher.js';
import type { Claim, ClaimKey, Decision, SequencingState } from '../domain/sequencing.js';
import type { ConversationRow } from '../storage/conversations.table.js';

type CommandCase = NonNullable<ConversationCommand['command']>;
/** The kinds of conversation command (the oneof cases of ConversationCommand). */
export type CommandKind = CommandCase['$case'];
export type CommandBody<K extends CommandKind> = Extract<CommandCase, { $case: K }>['value'];

/** One command of a conversation's batch, with the handler of its kind. */
export interface BatchItem<K extends CommandKind = CommandKind> {
  command: ConversationCommand;
  callerId: string;
  body: CommandBody<K>;
  handler: CommandHandler<K>;
}

/** What a command needs read before it can be decided. */
export interface Needs {
  claim?: ClaimKey;
  /** Users whose read markers matter (a reader; a sender, whose own messages count as read). */
  readers: string[];
  /** The seq of a message the command changes (its stored state is read first). */
  message?: number;
  /** The conversation's pin count. */
  pins?: boolean;
  /** Whether each member shares read receipts (for conversations small enough to show them). */
  receipts?: boolean;
  /** Users whose membership (role, mute) a membership change decides on; also loads the count. */
  roster?: string[];
  /** Users whose role a decision checks (without the member count). */
  roles?: string[];
}

/** One conversation's part of a batch while the sequencer works on it. */
export interface ConversationBatch {
  readonly conversation: ConversationRow;
  readonly items: readonly BatchItem[];
  readonly decisions: readonly Decision[];
  /** The conversation's last seq once this batch is stored. */
  readonly lastSeq: number;
  readonly now: Date;
  /** Unlogged writes that land before last_seq. */
  readonly statements: Statement[];
  /** Other writes that land before last_seq (may read first); each says whether it wrote. */
  readonly writes: Array<Promise<boolean>>;
  /** The message each command stored or found, by item index. */
  readonly stored: Array<Message | undefined>;
  /** Claims this batch holds now, by claimId() (kept in memory for retries). */
  readonly claims: Map<string, Claim>;
  /** The messages this batch updates, in their state after it, by seq. */
  readonly messages: ReadonlyMap<number, MessageState>;
  /** Members of the conversation, once the writes are done. */
  memberIds: readonly string[];
  /** Whether each member shares read receipts, when a command asked (Needs.receipts). */
  receiptsSharing: ReadonlyMap<string, boolean>;
}

/** Where a handler's results go once the batch is stored. */
export interface Outbox {
  reply(command: ConversationCommand, result: CommandResult['result']): void;
  live(userIds: Iterable<string>, event: LiveEvent): void;
  /** A live event for every member of the conversation (batch.memberIds): the large-channel path. */
  liveToMembers(memberIds: readonly string[], event: LiveEvent): void;
  /**
   * A live event for every member that differs per recipient (`build` runs once per distinct
   * variant); in a large conversation the shared view instead, plus `alsoOwnTo`'s own.
   */
  liveViewsToMembers(memberIds: readonly string[], views: MemberViews): void;
  /** A sequenced event for im.events.v1; `name` makes its id (kind and position in the conversation). */
  event(name: string, at: Date, event: ConversationEvent['event']): void;
}

/**
 * The sequencer's work for one kind of conversation command. The sequencer groups a batch by
 * conversation, reads what the commands need, then for each command in partition order calls
 * decide() (domain, no I/O), store() (writes before last_seq) and, once last_seq is written,
 * publish() (the reply, live events, sequenced events).
 */
export interface CommandHandler<K extends CommandKind = CommandKind> {
  readonly kind: K;
  needs(item: BatchItem<K>): Needs;
  decide(state: SequencingState, item: BatchItem<K>, index: number): Decision;
  store(batch: ConversationBatch, index: number): void;
  publish(batch: ConversationBatch, index: number, out: Outbox): void;
}
