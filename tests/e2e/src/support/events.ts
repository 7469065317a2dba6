import { createKafka, kafkaAuthFromEnv } from '@im/platform/kafka';
import { createRegistry } from '@im/platform/registry';
import { ConversationEvent } from '@im/proto/events/v1';
import type { Platform } from '@im/testing';
import { eventually } from '@im/testing';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';

/**
 * Reads the platform's sequenced events (im.events.v1) of one conversation from the beginning,
 * as a downstream consumer would, until `done` holds for what was read.
 */
export async function conversationEvents(
  platform: Platform,
  conversationId: string,
  done: (events: ConversationEvent[]) => boolean,
  timeoutMs = 60_000,
): Promise<ConversationEvent[]> {
  const registry = createRegistry(platform.prefix);
  const kafka = createKafka({
    brokers: process.env.KAFKA_BROKERS!.split(','),
    clientId: 'e2e-events-reader',
    logger: pino({ level: 'silent' }),
    auth: kafkaAuthFromEnv(),
  });
  const consumer = kafka.consumer({ groupId: `${platform.prefix}.e2e-reader-${randomUUID()}` });
  const events: ConversationEvent[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: registry.topics.conversationEvents, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const e = ConversationEvent.decode(message.value!);
        if (e.conversationId === conversationId) events.push(e);
      },
    });
    await eventually(
      () => {
        if (!done(events)) throw new Error(`${events.length} events so far`);
      },
      { timeoutMs, what: 'the expected events' },
    );
    return events;
  } finally {
    await consumer.disconnect();
  }
}
