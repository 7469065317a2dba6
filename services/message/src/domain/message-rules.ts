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
const EMOJI_MAX_CODE_UNITS = 32;
const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });
/**
 * One element of an emoji (UTS #51's "possible emoji"; pictographs Unicode reserves for emojis
 * to come count): a flag, or an emoji with a skin tone, a
 * keycap, a presentation selector or a tag sequence; ZWJ joins elements. Anything else after it
 * (an invisible or combining character, a dangling ZWJ) is not part of an emoji.
 */
const EMOJI_ELEMENT = String.raw`(?:\p{RI}\p{RI}|[\p{Emoji}\p{Extended_Pictographic}](?:\p{EMod}|\uFE0F?\u20E3|\uFE0F|[\u{E0020}-\u{E007E}]+\u{E007F})?)`;
const POSSIBLE_EMOJI = new RegExp(`^${EMOJI_ELEMENT}(?:\u200D${EMOJI_ELEMENT})*$`, 'u');
/** What makes it one: a pictograph, a flag's regional indicators or a keycap. */
const EMOJI_BASE = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20E3/u;

function isOneGrapheme(text: string): boolean {
  return text.length > 0 && text.length <= EMOJI_MAX_CODE_UNITS && [...graphemes.segment(text)].length === 1;
}

function refuseEmoji(): never {
  throw new AppError(
    'invalid_argument',
    'emoji: one emoji (a single grapheme) or a :shortcode: of a-z 0-9 _ + - (at most 48)',
  );
}

/**
 * A reaction to add: a :shortcode:, or one emoji grapheme (ZWJ sequences, skin tones, flags,
 * keycaps; emojis Unicode has yet to assign too). Text, two emojis, and an emoji followed by an
 * invisible or combining character (which would look like the plain one and count as another)
 * are refused.
 */
export function validateEmoji(emoji: string): void {
  if (SHORTCODE.test(emoji)) return;
  if (!isOneGrapheme(emoji) || !POSSIBLE_EMOJI.test(emoji) || !EMOJI_BASE.test(emoji)) refuseEmoji();
}

/**
 * A reaction to remove: what validateEmoji accepts, and what it once accepted too (one grapheme
 * with a pictograph in it), so a reaction stored before it was stricter can still be taken back.
 */
export function validateEmojiToRemove(emoji: string): void {
  if (SHORTCODE.test(emoji)) return;
  if (!isOneGrapheme(emoji) || !EMOJI_BASE.test(emoji)) refuseEmoji();
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
