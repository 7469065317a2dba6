import type { Message, ReplyRef } from '@im/proto/client/v1';

/** Characters of a root's text a reply shows. */
export const REPLY_PREVIEW_CHARS = 100;

/**
 * What a reply shows of its root, from the root as it is now: a deleted (or missing) root shows
 * no text, so deleted text never lingers in its replies.
 */
export function replyRefOf(seq: number, root: Message | undefined): ReplyRef {
  if (!root || root.deleted) return { seq, senderId: root?.senderId ?? '', preview: '', deleted: true };
  return { seq, senderId: root.senderId, preview: [...root.text].slice(0, REPLY_PREVIEW_CHARS).join('') };
}

/** The seqs of the roots the replies among `messages` point at. */
export function rootSeqsOf(messages: readonly Message[]): number[] {
  return [...new Set(messages.flatMap((m) => (m.replyTo ? [m.replyTo.seq] : [])))];
}

/** `messages` with each reply's root filled in from `roots` (by seq). */
export function withReplyRefs(messages: Message[], roots: (seq: number) => Message | undefined): Message[] {
  return messages.map((m) =>
    m.replyTo ? { ...m, replyTo: replyRefOf(m.replyTo.seq, roots(m.replyTo.seq)) } : m,
  );
}

/** The root a reply joins: replying to a reply joins that reply's thread (threads are one level deep). */
export function threadRootOf(target: Message | undefined, replyTo: number): number {
  return target?.replyTo?.seq ?? replyTo;
}
