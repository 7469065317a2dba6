import { AppError } from '@im/platform/errors';
import type { Attachment } from '@im/proto/client/v1';

export interface SendInput {
  conversationId: string;
  clientMsgId: string;
  text: string;
  replyTo?: number | undefined;
  attachments: readonly Attachment[];
  mentions?: readonly string[];
}

/** Mentions in one message at most. */
export const MAX_MENTIONS = 50;
export const MENTION_ALL = 'all';

const CLIENT_MSG_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const ID = /^[A-Za-z0-9-]{1,64}$/;
export const MAX_ATTACHMENTS = 20;

/** Validates a send; throws invalid_argument naming the field. */
export function validateSend(input: SendInput, maxTextChars: number): void {
  if (!ID.test(input.conversationId)) throw new AppError('invalid_argument', 'conversationId: must be an id');
  if (!CLIENT_MSG_ID.test(input.clientMsgId)) {
    throw new AppError('invalid_argument', 'clientMsgId: required, 1-64 of A-Z a-z 0-9 . _ : -');
  }
  const chars = [...input.text].length;
  if (chars > maxTextChars)
    throw new AppError('invalid_argument', `text: at most ${maxTextChars} characters (got ${chars})`);
  if (input.text.trim() === '' && input.attachments.length === 0) {
    throw new AppError('invalid_argument', 'text: required (or at least one attachment)');
  }
  if (input.attachments.length > MAX_ATTACHMENTS) {
    throw new AppError('invalid_argument', `attachments: at most ${MAX_ATTACHMENTS}`);
  }
  if (input.replyTo !== undefined && (!Number.isSafeInteger(input.replyTo) || input.replyTo < 1))
    throw new AppError('invalid_argument', 'replyTo: the seq of a message (a positive integer)');
  for (const a of input.attachments) {
    if (!ID.test(a.mediaId)) throw new AppError('invalid_argument', 'attachments.mediaId: must be an id');
  }
  const mentions = input.mentions ?? [];
  if (mentions.length > MAX_MENTIONS)
    throw new AppError('invalid_argument', `mentions: at most ${MAX_MENTIONS}`);
  for (const m of mentions)
    if (!ID.test(m)) throw new AppError('invalid_argument', 'mentions: user ids, or "all"');
}

/**
 * Who may mention "all": anyone in groups and direct conversations, admins and the owner in
 * channels (a channel can be large: everyone's phone would ring).
 */
export function mayMentionAll(type: string, role: string): boolean {
  return type !== 'channel' || role === 'owner' || role === 'admin';
}

const SHORTCODE = /^:[a-z0-9_+-]{1,48}:$/;
/** One emoji of Unicode's recommended set: ZWJ sequences, skin tones, flags, keycaps included. */
// built at run time: the `v` flag (Node 20+) is newer than the compile target (es2023)
const RGI_EMOJI = new RegExp('^\\p{RGI_Emoji}$', 'v');
const EMOJI_PRESENTATION = '\u{FE0F}';

/**
 * A reaction as stored: one emoji of Unicode's recommended set or a :shortcode:. A pictograph sent
 * without its emoji presentation selector ("❤") is the same reaction as with it ("❤️"). Anything
 * else (text, two emojis, an emoji with invisible characters or combining marks after it, which
 * would look like the plain one and count as another) is refused.
 */
export function canonicalEmoji(emoji: string): string {
  if (SHORTCODE.test(emoji) || RGI_EMOJI.test(emoji)) return emoji;
  if ([...emoji].length === 1 && RGI_EMOJI.test(emoji + EMOJI_PRESENTATION))
    return emoji + EMOJI_PRESENTATION;
  throw new AppError(
    'invalid_argument',
    'emoji: one emoji (a single grapheme) or a :shortcode: of a-z 0-9 _ + - (at most 48)',
  );
}

/** The new text of an edit (blank is decided by the sequencer: allowed when there are attachments). */
export function validateEditText(text: string, maxTextChars: number): void {
  const chars = [...text].length;
  if (chars > maxTextChars)
    throw new AppError('invalid_argument', `text: at most ${maxTextChars} characters (got ${chars})`);
}

/** A message's seq in a path or frame. */
export function validateSeq(seq: number): void {
  if (!Number.isSafeInteger(seq) || seq < 1)
    throw new AppError('invalid_argument', 'seq: a positive integer');
}
