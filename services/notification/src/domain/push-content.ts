import type { Previews } from './notification-rules.js';

export interface BatchedMessage {
  eventId: string;
  seq: number;
  senderId: string;
  text: string;
  mentioned: boolean;
}

/** What every provider renders, from one batch of one conversation for one user. */
export interface PushContent {
  kind: 'messages' | 'badge';
  conversationId: string;
  /** The newest message's seq: the app syncs up to it. */
  seq: number;
  count: number;
  badge: number;
  /** Absent with previews "none": the app fetches what to show. */
  title?: string;
  body?: string;
  senderIds?: string[];
  mentioned?: boolean;
}

const BODY_MAX = 180;

function shorten(text: string): string {
  const chars = [...text.replace(/\s+/g, ' ').trim()];
  return chars.length <= BODY_MAX ? chars.join('') : `${chars.slice(0, BODY_MAX - 1).join('')}…`;
}

/**
 * One push for a burst: "3 new messages from Ana, Bo", collapsed per conversation. Previews
 * "sender" leave the text out, "none" everything but ids and counts.
 */
export function composePush(
  conversationId: string,
  messages: readonly BatchedMessage[],
  previews: Previews,
  nameOf: (userId: string) => string,
  badge: number,
): PushContent {
  const last = messages[messages.length - 1]!;
  const base: PushContent = {
    kind: 'messages',
    conversationId,
    seq: Math.max(...messages.map((m) => m.seq)),
    count: messages.length,
    badge,
    mentioned: messages.some((m) => m.mentioned),
  };
  if (previews === 'none') return base;
  const senderIds = [...new Set(messages.map((m) => m.senderId))];
  const names = senderIds.map(nameOf).join(', ');
  const title =
    messages.length === 1 ? nameOf(last.senderId) : `${messages.length} new messages from ${names}`;
  const body =
    previews === 'full'
      ? shorten(last.text) || 'sent an attachment'
      : messages.length === 1
        ? 'New message'
        : `${messages.length} new messages`;
  return { ...base, title, body, senderIds };
}

/** A silent update of the app's badge (read on another device). */
export function badgeUpdate(conversationId: string, seq: number, badge: number): PushContent {
  return { kind: 'badge', conversationId, seq, count: 0, badge };
}
