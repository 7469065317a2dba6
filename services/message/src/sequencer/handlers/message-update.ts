import type { Statement } from '@im/platform/cassandra';
import type { Message } from '@im/proto/client/v1';
import type { ConversationCommand } from '@im/proto/events/v1';
import { withReplyRefs } from '../../domain/threads.js';
import { asSeenBy, reactionsOf, type UpdateCommand } from '../../domain/message-updates.js';
import type { SequencingState, Decision } from '../../domain/sequencing.js';
import type { BatchItem, ConversationBatch, Needs, Outbox } from '../command-handler.js';

export type Updated = Extract<Decision, { kind: 'updated' }>;

/**
 * What the three message updates (edit, delete, reaction) share: each reads its message, takes the
 * conversation's next version when accepted, and publishes the message after the change.
 */
/** When the command was accepted: what an update records, so a replay decides and stores the same. */
export function acceptedAt(item: { command: BatchItem['command'] }): Date {
  return new Date(item.command.issuedAt ?? Date.now());
}

export function updateNeeds(seq: number): Needs {
  return { readers: [], message: seq };
}

export function decideUpdate(state: SequencingState, cmd: UpdateCommand): Decision {
  return state.update(cmd);
}

/** The accepted update at `index`, with what every update stores: its entry in the change log. */
export function storeUpdate(
  batch: ConversationBatch,
  index: number,
  log: (conversationId: string, version: number, seq: number) => Statement,
  own: (d: Updated) => Statement[],
): void {
  const d = batch.decisions[index]!;
  if (d.kind !== 'updated') return;
  batch.statements.push(...own(d), log(batch.conversation.conversationId, d.version, d.seq));
}

/**
 * The reply (as the caller sees it), `message.updated` to every member (reactions' `me` per
 * recipient; one shared view in large conversations) and the sequenced MessageUpdated event,
 * whose id is its version.
 */
export function publishUpdate(batch: ConversationBatch, index: number, out: Outbox, emoji = ''): void {
  const d = batch.decisions[index]!;
  const { command, callerId } = batch.items[index]!;
  if (d.kind !== 'updated') return;
  publishChange(batch, d, callerId, out, { emoji, replyTo: command });
}

/** One accepted change of a message: to `replyTo` (when someone waits for it), live, and sequenced. */
export function publishChange(
  batch: ConversationBatch,
  d: Updated,
  changedBy: string,
  out: Outbox,
  { emoji = '', replyTo }: { emoji?: string; replyTo?: ConversationCommand } = {},
): void {
  // `me` comes from the message's state after the batch: exact for the batch's last update of it
  const reactors = batch.messages.get(d.seq)?.reactors ?? new Map();
  const message = outgoing(batch, d.message);
  if (replyTo)
    out.reply(replyTo, {
      $case: 'messageChanged',
      value: { message: asSeenBy(message, reactionsOf(reactors, changedBy)) },
    });
  out.liveViewsToMembers(batch.memberIds, {
    variantOf: (userId) => [...reactionsOf(reactors, userId)].sort().join('\n'),
    build: (variant) => ({
      event: { $case: 'messageUpdated', value: asSeenBy(message, new Set(variant.split('\n'))) },
    }),
    shared: () => ({
      event: { $case: 'messageUpdated', value: { ...asSeenBy(message, new Set()), shared: true } },
    }),
    // only a reaction changes someone's `me`: the reactor's
    alsoOwnTo: emoji ? [changedBy] : [],
  });
  out.event(`updated/${d.version}`, batch.now, {
    $case: 'messageUpdated',
    value: { message, change: d.change, changedBy, emoji },
  });
}

/** A message as it leaves the sequencer: a reply shows its root as the batch leaves it. */
export function outgoing(batch: ConversationBatch, m: Message): Message {
  if (!m.replyTo) return m;
  const root = batch.messages.get(m.replyTo.seq)?.message;
  // a stored message found for a retry that named another root: its quote was read with it
  if (!root && m.replyTo.senderId) return m;
  return withReplyRefs([m], () => root)[0]!;
}
