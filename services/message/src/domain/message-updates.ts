import type { Message, Reaction } from '@im/proto/client/v1';

/**
 * Edits, deletes and reactions decided against a message's current state, without I/O. The
 * sequencer applies a conversation's updates one by one in partition order; each accepted one
 * takes the conversation's next version and yields the message as it is after the change.
 */

/** Who reacted with which emoji, and when (ms): emoji → user → time. */
export type Reactors = Map<string, Map<string, number>>;

/** A message as the sequencer holds it while updates are decided. */
export interface MessageState {
  /** The message after the latest change (reactions without `me`). */
  message: Message;
  reactors: Reactors;
}

/** The conversation-wide part of the state updates are decided against. */
export interface ConversationUpdateState {
  /** Messages pinned in the conversation now. */
  pinned: number;
}

export type UpdateCommand =
  | { kind: 'edit'; seq: number; userId: string; text: string; at: Date; windowSeconds: number }
  | { kind: 'delete'; seq: number; userId: string; asModerator: boolean }
  | {
      kind: 'react';
      seq: number;
      userId: string;
      emoji: string;
      add: boolean;
      at: Date;
      maxDistinct: number;
    }
  | { kind: 'pin'; seq: number; userId: string; pin: boolean; allowed: boolean; at: Date; maxPins: number }
  /** A reply was stored at replySeq: the root counts it. */
  | { kind: 'replied'; seq: number; replySeq: number; at: Date };

export type Change =
  'edited' | 'deleted' | 'reaction_added' | 'reaction_removed' | 'pinned' | 'unpinned' | 'replied';

export type UpdateRefusal = {
  kind: 'refused';
  code: 'not_found' | 'forbidden' | 'edit_window_closed' | 'limit_exceeded' | 'invalid_argument';
  message: string;
};

export type UpdateOutcome =
  | {
      kind: 'updated';
      seq: number;
      version: number;
      change: Change;
      /** The message after this change. */
      message: Message;
      /** Edits: the text it replaced (kept server-side). */
      previousText?: string;
      /** Reactions added: when the user first reacted so (a repeated add keeps the first time). */
      reactedAt?: number;
      /** Deletes: the media the message carried (now detached from it). */
      detached?: string[];
      /** Deletes: whom the message mentioned (it counts as their mention no longer). */
      unmentioned?: string[];
    }
  | UpdateRefusal;

/** The seq the change log gives to a change of the conversation itself (its settings), not of a message. */
export const CONVERSATION_CHANGE = 0;

/** Users listed per reaction (the earliest). */
export const REACTION_SAMPLE = 5;

const refused = (code: UpdateRefusal['code'], message: string): UpdateRefusal => ({
  kind: 'refused',
  code,
  message,
});

/**
 * Applies one update to `state` (mutating it) at `version`; returns the outcome, or a refusal that
 * changes nothing. Repeating an update (the same reaction again, a second delete, the same text)
 * is accepted and still takes a version: a replay after a crash decides it as the first run did
 * (numbered after whatever that run logged, ADR 0010), and a redundant version only makes clients
 * re-apply the same state.
 */
export function applyUpdate(
  state: MessageState | undefined,
  cmd: UpdateCommand,
  version: number,
  conversation: ConversationUpdateState = { pinned: 0 },
): UpdateOutcome {
  const current = state?.message;
  if (!state || !current || (current.deleted && cmd.kind !== 'delete'))
    return refused('not_found', `no message at seq ${cmd.seq}`);
  switch (cmd.kind) {
    case 'edit': {
      if (current.senderId !== cmd.userId) return refused('forbidden', 'only the sender may edit a message');
      const sentAt = Date.parse(current.createdAt!);
      if (cmd.windowSeconds > 0 && cmd.at.getTime() - sentAt > cmd.windowSeconds * 1000)
        return refused(
          'edit_window_closed',
          `messages can be edited for ${cmd.windowSeconds} s after sending`,
        );
      if (cmd.text.trim() === '' && current.attachments.length === 0)
        return refused('invalid_argument', 'text: required (the message has no attachment)');
      const previousText = current.text;
      // later than the edit before, even within one millisecond: editedAt tells a text from the
      // one before it (search drops a hit whose indexed editedAt is not the stored one)
      const editedAt = Math.max(cmd.at.getTime(), current.editedAt ? Date.parse(current.editedAt) + 1 : 0);
      state.message = { ...current, text: cmd.text, editedAt: new Date(editedAt).toISOString(), version };
      return {
        kind: 'updated',
        seq: cmd.seq,
        version,
        change: 'edited',
        message: state.message,
        previousText,
      };
    }
    case 'delete': {
      if (current.senderId !== cmd.userId && !cmd.asModerator)
        return refused(
          'forbidden',
          'only the sender, or an admin of a group or channel, may delete a message',
        );
      if (current.pin) conversation.pinned--;
      const { pin: _unpinned, ...rest } = current;
      state.message = {
        ...rest,
        text: '',
        attachments: [],
        reactions: [],
        mentions: [],
        deleted: true,
        version,
      };
      state.reactors = new Map();
      return {
        kind: 'updated',
        seq: cmd.seq,
        version,
        change: 'deleted',
        message: state.message,
        detached: current.attachments.map((a) => a.mediaId),
        unmentioned: current.mentions,
      };
    }
    case 'pin': {
      if (!cmd.allowed) return refused('forbidden', 'in channels only admins pin messages');
      if (cmd.pin && !current.pin && conversation.pinned >= cmd.maxPins)
        return refused('limit_exceeded', `a conversation has at most ${cmd.maxPins} pinned messages`);
      if (cmd.pin && !current.pin) {
        conversation.pinned++;
        state.message = {
          ...current,
          pin: { pinnedBy: cmd.userId, pinnedAt: cmd.at.toISOString() },
          version,
        };
      } else if (!cmd.pin && current.pin) {
        conversation.pinned--;
        const { pin: _removed, ...rest } = current;
        state.message = { ...rest, version };
      } else state.message = { ...current, version };
      return {
        kind: 'updated',
        seq: cmd.seq,
        version,
        change: cmd.pin ? 'pinned' : 'unpinned',
        message: state.message,
      };
    }
    case 'replied': {
      if (current.replyTo)
        return refused(
          'invalid_argument',
          `replyTo: seq ${cmd.seq} is itself a reply (threads are one level deep)`,
        );
      state.message = {
        ...current,
        replyCount: current.replyCount + 1,
        lastReplyAt: cmd.at.toISOString(),
        lastReplySeq: cmd.replySeq,
        version,
      };
      return { kind: 'updated', seq: cmd.seq, version, change: 'replied', message: state.message };
    }
    case 'react': {
      const users = state.reactors.get(cmd.emoji);
      if (cmd.add && !users && state.reactors.size >= cmd.maxDistinct)
        return refused('limit_exceeded', `a message carries at most ${cmd.maxDistinct} different reactions`);
      let reactedAt: number | undefined;
      if (cmd.add) {
        const set = users ?? new Map<string, number>();
        if (!users) state.reactors.set(cmd.emoji, set);
        reactedAt = set.get(cmd.userId) ?? cmd.at.getTime();
        set.set(cmd.userId, reactedAt);
      } else if (users?.delete(cmd.userId) && users.size === 0) state.reactors.delete(cmd.emoji);
      state.message = { ...current, reactions: summarize(state.reactors), version };
      return {
        kind: 'updated',
        seq: cmd.seq,
        version,
        change: cmd.add ? 'reaction_added' : 'reaction_removed',
        message: state.message,
        ...(reactedAt !== undefined ? { reactedAt } : {}),
      };
    }
  }
}

/** Counts per emoji, in order of each emoji's first use, with the earliest users (no `me`). */
export function summarize(reactors: Reactors): Reaction[] {
  const firstUse = (users: Map<string, number>) => Math.min(...users.values());
  return [...reactors]
    .map(([emoji, users]) => ({ emoji, users, first: firstUse(users) }))
    .sort((a, b) => a.first - b.first || (a.emoji < b.emoji ? -1 : a.emoji > b.emoji ? 1 : 0))
    .map(({ emoji, users }) => ({
      emoji,
      count: users.size,
      userIds: [...users]
        .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, REACTION_SAMPLE)
        .map(([u]) => u),
      me: false,
    }));
}

/** The message as one reader sees it: `me` set on the reactions the reader is part of. */
export function asSeenBy(message: Message, mine: ReadonlySet<string>): Message {
  if (message.reactions.length === 0) return message;
  return { ...message, reactions: message.reactions.map((r) => ({ ...r, me: mine.has(r.emoji) })) };
}

/** The emojis a user reacted with. */
export function reactionsOf(reactors: Reactors, userId: string): Set<string> {
  const out = new Set<string>();
  for (const [emoji, users] of reactors) if (users.has(userId)) out.add(emoji);
  return out;
}
