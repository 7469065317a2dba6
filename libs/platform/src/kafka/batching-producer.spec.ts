import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Kafka } from 'kafkajs';
import { BatchingProducer, sequenceRefused } from './batching-producer.js';

/** kafkajs' producers, one per kafka.producer() call; the first refuses its sequence numbers. */
function kafkaWithRefusingFirstProducer() {
  const made: Array<{ connects: number; sends: number; disconnected: boolean }> = [];
  const kafka = {
    producer: () => {
      const p = { connects: 0, sends: 0, disconnected: false };
      const first = made.length === 0;
      made.push(p);
      return {
        connect: async () => void p.connects++,
        disconnect: async () => void (p.disconnected = true),
        sendBatch: async () => {
          p.sends++;
          if (first) throw Object.assign(new Error('out of order'), { type: 'OUT_OF_ORDER_SEQUENCE_NUMBER' });
          return [];
        },
      };
    },
  } as unknown as Kafka;
  return { kafka, made };
}

const record = { topic: 't', key: 'k', value: Buffer.from('v') };

describe('BatchingProducer', () => {
  it('a producer whose sequence numbers the broker refuses is replaced: the batch fails, the next goes out on a new one', async () => {
    const { kafka, made } = kafkaWithRefusingFirstProducer();
    const producer = new BatchingProducer(kafka);
    await producer.connect();
    await assert.rejects(producer.send(record), /out of order/);
    await producer.send(record);
    assert.equal(made.length, 2, 'a new producer (a new producer id)');
    assert.deepEqual(made[0], { connects: 1, sends: 1, disconnected: true });
    assert.deepEqual(made[1], { connects: 1, sends: 1, disconnected: false });
    await producer.close();
  });

  it('knows a refused sequence however kafkajs wraps it', () => {
    const refused = { type: 'OUT_OF_ORDER_SEQUENCE_NUMBER' };
    assert.equal(sequenceRefused(refused), true);
    assert.equal(sequenceRefused({ name: 'KafkaJSNumberOfRetriesExceeded', cause: refused }), true);
    assert.equal(sequenceRefused({ errors: [{ originalError: { type: 'UNKNOWN_PRODUCER_ID' } }] }), true);
    assert.equal(sequenceRefused({ type: 'REQUEST_TIMED_OUT' }), false);
    assert.equal(sequenceRefused(new Error('connect ECONNREFUSED')), false);
  });
});
