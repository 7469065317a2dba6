import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Kafka } from 'kafkajs';
import { BatchingProducer, LogUnavailableError } from './batching-producer.js';

/**
 * kafkajs' producers, one per kafka.producer() call; their sendBatch calls, in order over all of
 * them, wait `ms` and then fail or succeed as `outcomes` says (the last one repeats).
 */
function scriptedKafka(outcomes: ReadonlyArray<{ ms: number; fail: boolean }>) {
  const made: Array<{ connects: number; sends: number; disconnected: boolean }> = [];
  let calls = 0;
  const kafka = {
    producer: () => {
      const p = { connects: 0, sends: 0, disconnected: false };
      made.push(p);
      return {
        connect: async () => void p.connects++,
        disconnect: async () => void (p.disconnected = true),
        sendBatch: async () => {
          p.sends++;
          const o = outcomes[Math.min(calls++, outcomes.length - 1)]!;
          await new Promise((r) => setTimeout(r, o.ms));
          if (o.fail)
            throw Object.assign(new Error('Connection error'), { name: 'KafkaJSNonRetriableError' });
          return [];
        },
      };
    },
  } as unknown as Kafka;
  return { kafka, made };
}

const record = { topic: 't', key: 'k', value: Buffer.from('v') };

describe('BatchingProducer', () => {
  it('a failed batch gets a new producer (a new id): kafkajs took its sequence numbers back', async () => {
    const { kafka, made } = scriptedKafka([
      { ms: 0, fail: true },
      { ms: 0, fail: false },
    ]);
    const producer = new BatchingProducer(kafka);
    await producer.connect();
    await assert.rejects(producer.send(record), /Connection error/);
    await producer.send(record);
    assert.equal(made.length, 2, 'a new producer');
    assert.deepEqual(made[0], { connects: 1, sends: 1, disconnected: true });
    assert.deepEqual(made[1], { connects: 1, sends: 1, disconnected: false });
    await producer.close();
  });

  it('stays stalled across failed requests until one is answered: sends are refused at once', async () => {
    // each request of an outage fails after kafkajs' connection retries (here 300 ms)
    const { kafka } = scriptedKafka([
      { ms: 300, fail: true },
      { ms: 300, fail: true },
      { ms: 0, fail: false },
    ]);
    const producer = new BatchingProducer(kafka, { stallAfterMs: 100 });
    await producer.connect();
    const first = assert.rejects(producer.send(record), /Connection error/);
    await new Promise((r) => setTimeout(r, 150));
    await assert.rejects(producer.send(record), LogUnavailableError, 'unanswered for 150 ms');
    await first;
    await new Promise((r) => setImmediate(r)); // the failed request's loop has ended
    // the next request starts the moment a record comes; the outage did not end with the last one
    const second = assert.rejects(producer.send(record), /Connection error/);
    await assert.rejects(producer.send(record), LogUnavailableError, 'still unanswered since the first');
    await second;
    // after a quiet spell longer than stallAfterMs, a request starts afresh (and is answered)
    await new Promise((r) => setTimeout(r, 150));
    await producer.send(record);
    await producer.send(record); // answered: no longer stalled
    await producer.close();
  });
});
