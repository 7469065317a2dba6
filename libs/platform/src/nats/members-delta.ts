import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { isPlainPublish } from './plain-publish.js';

/**
 * What the message service publishes on `conversationMembersChanged` after a membership change:
 * who joined and who left, or `reset` when too many changed to list (reload the members instead).
 */
export interface MembersDelta {
  conversationId: string;
  added?: string[];
  removed?: string[];
  reset?: boolean;
}

/**
 * Calls `onDelta` for each member change the message service announces. Only plain publishes
 * count: what JetStream sends to the subject (a consumer's deliveries, a direct get's answer) is
 * forged by whoever may read a bucket (ADR 0023); what does not parse is dropped.
 */
export function subscribeMembersDeltas(
  nc: NatsConnection,
  subject: string,
  onDelta: (delta: MembersDelta) => void,
): Subscription {
  return nc.subscribe(subject, {
    callback: (_err, msg) => {
      if (!isPlainPublish(msg)) return;
      let delta: MembersDelta;
      try {
        delta = JSON.parse(msg.string()) as MembersDelta;
      } catch {
        return;
      }
      if (typeof delta?.conversationId === 'string') onDelta(delta);
    },
  });
}
