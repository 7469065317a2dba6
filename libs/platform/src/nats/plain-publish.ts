import type { Msg } from '@nats-io/nats-core';

/**
 * Whether a message reached its subscriber as a service's own publish, not through JetStream.
 * Whoever may read a bucket can have the server send what the bucket holds to any subject it
 * names: a consumer's deliveries (always with a $JS.ACK/$JS.FC reply subject or a status header),
 * the answer to a direct get whose reply-to it chose, or a stream's republish (both with the
 * Nats-Stream header). Subscribers of subjects that only a service publishes to (live events,
 * member changes) take only plain publishes (ADR 0023). A deny-list of what JetStream adds, so an
 * account per service remains the real boundary.
 */
export function isPlainPublish(msg: Pick<Msg, 'reply' | 'headers'>): boolean {
  if (msg.reply) return false;
  const headers = msg.headers;
  return !headers || (headers.code === 0 && !headers.has('Nats-Stream'));
}
