/**
 * Who gets a push for a new message, per recipient: the one place where presence, the
 * conversation's level and mute, quiet hours and keywords meet. Pure: no I/O, no clock of its own.
 */

export type Level = 'all' | 'mentions' | 'none';
export type Previews = 'full' | 'sender' | 'none';
export type PresenceStatus = 'online' | 'away' | 'busy' | 'offline';

export interface QuietHours {
  start: string;
  end: string;
  timeZone: string;
}

export interface UserRules {
  previews: Previews;
  quietHours?: QuietHours | undefined;
  keywords: readonly string[];
}

export interface ConversationRules {
  /** Unset: the default for the conversation's type (defaultLevel). */
  level?: Level | undefined;
  mutedUntil?: Date | undefined;
}

export interface NewMessage {
  senderId: string;
  text: string;
  /** User ids, or "all" (already checked against the sender's role by the message service). */
  mentions: readonly string[];
  conversationType: string;
}

export interface Recipient {
  userId: string;
  presence: PresenceStatus;
  user: UserRules;
  conversation: ConversationRules;
}

export interface RulesPolicy {
  /** Push to users whose devices are connected but idle (presence away). */
  pushWhenAway: boolean;
  /** Busy (do not disturb) still lets mentions through. */
  busyAllowsMentions: boolean;
}

export type Decision =
  | { push: true; mentioned: boolean; keyword: boolean }
  | {
      push: false;
      reason: 'sender' | 'connected' | 'busy' | 'muted' | 'level' | 'quiet_hours';
    };

export const DEFAULT_USER_RULES: UserRules = { previews: 'full', keywords: [] };

/** Channels notify for mentions by default (a busy channel would be noise); the rest for all. */
export function defaultLevel(conversationType: string): Level {
  return conversationType === 'channel' ? 'mentions' : 'all';
}

export function decide(message: NewMessage, r: Recipient, policy: RulesPolicy, now: Date): Decision {
  if (r.userId === message.senderId) return { push: false, reason: 'sender' };
  const mentioned = message.mentions.includes(r.userId) || message.mentions.includes('all');
  const keyword = matchesKeyword(message.text, r.user.keywords);
  if (r.presence === 'online') return { push: false, reason: 'connected' };
  if (r.presence === 'away' && !policy.pushWhenAway) return { push: false, reason: 'connected' };
  if (r.presence === 'busy' && !(policy.busyAllowsMentions && mentioned))
    return { push: false, reason: 'busy' };
  if (r.conversation.mutedUntil && r.conversation.mutedUntil.getTime() > now.getTime())
    return { push: false, reason: 'muted' };
  const level = r.conversation.level ?? defaultLevel(message.conversationType);
  if (level === 'none' || (level === 'mentions' && !mentioned && !keyword))
    return { push: false, reason: 'level' };
  if (r.user.quietHours && inQuietHours(r.user.quietHours, now))
    return { push: false, reason: 'quiet_hours' };
  return { push: true, mentioned, keyword };
}

/** Whole words, case-insensitive, in any script. */
export function matchesKeyword(text: string, keywords: readonly string[]): boolean {
  return keywords.some((k) => {
    const word = k.trim();
    if (!word) return false;
    const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`(?<![\\p{L}\\p{N}_])${escaped}(?![\\p{L}\\p{N}_])`, 'iu').test(text);
  });
}

const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;

export function isValidTime(value: string): boolean {
  return HH_MM.test(value);
}

export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Minutes since local midnight in the zone. */
function localMinutes(now: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(now);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return get('hour') * 60 + get('minute');
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** [start, end) in the user's zone; an end before the start spans midnight; start = end is never. */
export function inQuietHours(q: QuietHours, now: Date): boolean {
  const t = localMinutes(now, q.timeZone);
  const start = minutesOf(q.start);
  const end = minutesOf(q.end);
  if (start === end) return false;
  return start < end ? t >= start && t < end : t >= start || t < end;
}
