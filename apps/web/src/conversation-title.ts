import type { Conversation } from '@im/sdk';
import type { Directory } from './directory.js';

/** A group's title, or for a direct conversation the other person's name. */
export function conversationTitle(c: Conversation, me: string, directory: Directory): string {
  if (c.type !== 'direct') return c.title || 'Untitled group';
  const other = c.members.find((m) => m.userId !== me);
  return other ? directory.name(other.userId) : 'Just you';
}

/** The other member of a direct conversation (whose presence its row shows). */
export function directPeer(c: Conversation, me: string): string | undefined {
  return c.type === 'direct' ? c.members.find((m) => m.userId !== me)?.userId : undefined;
}

export function timeOf(iso: string | undefined): string {
  return iso ? new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : '';
}
