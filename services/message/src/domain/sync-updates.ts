import type { Message } from '@im/proto/client/v1';
import { CONVERSATION_CHANGE } from './message-updates.js';

export interface Change {
  version: number;
  /** The message changed, or CONVERSATION_CHANGE for the conversation's settings or members. */
  seq: number;
}

export interface UpdatesPage {
  /** The messages the device holds that the changes taken touched, in seq order. */
  messages: Message[];
  /** The version up to which the changes were taken: where the device's next sync starts. */
  upTo: number;
  /** How many changes were taken. */
  taken: number;
  settingsChanged: boolean;
}

/**
 * The changes a device gets in one sync answer, oldest first: only those of messages it holds
 * (seq <= afterSeq), and no more than `roomBytes` of messages (at least one, so a sync always
 * moves). `stored` holds the messages as they are now.
 */
export function updatesWithin(
  changes: readonly Change[],
  stored: ReadonlyMap<number, Message>,
  afterSeq: number,
  roomBytes: number,
  size: (m: Message) => number,
): UpdatesPage & { cut: boolean } {
  const taken = new Map<number, Message>();
  let bytes = 0;
  let upTo: number | undefined;
  let count = 0;
  let settingsChanged = false;
  for (const c of changes) {
    const m = c.seq > CONVERSATION_CHANGE && c.seq <= afterSeq ? stored.get(c.seq) : undefined;
    if (m && !taken.has(m.seq)) {
      if (taken.size > 0 && bytes + size(m) > roomBytes)
        return { ...page(taken, upTo!, count, settingsChanged), cut: true };
      taken.set(m.seq, m);
      bytes += size(m);
    }
    settingsChanged ||= c.seq === CONVERSATION_CHANGE;
    upTo = c.version;
    count++;
  }
  return { ...page(taken, upTo ?? 0, count, settingsChanged), cut: false };
}

function page(
  messages: Map<number, Message>,
  upTo: number,
  taken: number,
  settingsChanged: boolean,
): UpdatesPage {
  return { messages: [...messages.values()].sort((a, b) => a.seq - b.seq), upTo, taken, settingsChanged };
}
