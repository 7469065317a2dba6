import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Kafka } from 'kafkajs';
import {
  BatchConsumer,
  BatchingProducer,
  createKafka,
  kafkaAuthFromEnv,
  LogUnavailableError,
  ensureTopics,
  SKIP_BATCH,
} from '../src/kafka/index.js';
import { infra, quietLogger, uniquePrefix, waitFor } from './env.js';

describe('kafka (real broker)', () => {
  let kafka: Kafka;
  const prefix = uniquePrefix('kt');
  const topic = `${prefix}.orders.v1`;

  before(async () => {
    kafka = createKafka({
      brokers: infra().kafkaBrokers,
      clientId: 'platform-test',
      logger: quietLogger,
      auth: kafkaAuthFromEnv(),
    });
  });

  it('creates a topic through admin, and leaves an existing one alone', async () => {
    await ensureTopics(kafka, [{ topic, numPartitions: 3, replicationFactor: 1 }]);
    await ensureTopics(kafka, [{ topic, numPartitions: 3, replicationFactor: 1 }]);
    const admin = kafka.admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      assert.equal(meta.topics[0]!.partitions.length, 3);
    } finally {
      await admin.disconnect();
    }
  });

  it('a full producer queue refuses sends, but makes sendMany({ waitForRoom }) wait instead', async () => {
    // a topic of its own: the next test counts every record of `topic`
    const topic = `${prefix}.queue.v1`;
    await ensureTopics(kafka, [{ topic, numPartitions: 3, replicationFactor: 1 }]);
    const producer = new BatchingProducer(kafka, { maxQueuedRecords: 20, maxBatchRecords: 5 });
    await producer.connect();
    try {
      const record = (i: number) => ({ topic, key: `k${i % 3}`, value: Buffer.from(`q${i}`) });
      const batches = Array.from({ length: 10 }, (_, b) =>
        Array.from({ length: 10 }, (_, i) => record(b * 10 + i)),
      );
      const refused = await Promise.allSettled(batches.map((b) => producer.sendMany(b)));
      assert.ok(
        refused.some((r) => r.status === 'rejected' && r.reason instanceof LogUnavailableError),
        'without waiting, 100 records at once overflow a queue of 20',
      );
      const waited = await Promise.allSettled(
        batches.map((b) => producer.sendMany(b, { waitForRoom: true })),
      );
      assert.deepEqual(
        waited.map((r) => r.status),
        batches.map(() => 'fulfilled'),
      );
    } finally {
      await producer.close();
    }
  });

  it('lingers only while records keep coming: after a quiet spell a record leaves at once', async () => {
    const topic = `${prefix}.linger.v1`;
    await ensureTopics(kafka, [{ topic, numPartitions: 1, replicationFactor: 1 }]);
    // long enough that a produce round trip on a loaded machine stays well inside it
    const lingerMs = 1_500;
    const producer = new BatchingProducer(kafka, { lingerMs });
    await producer.connect();
    const quiet = () => new Promise((r) => setTimeout(r, lingerMs + 200));
    try {
      const record = (v: string) => ({ topic, key: 'k', value: Buffer.from(v) });
      await producer.send(record('warm-up')); // metadata, first connection
      await quiet();
      const before = producer.requests;
      await producer.send(record('first'));
      assert.equal(producer.requests - before, 1);
      // right after a request: the next records wait for the linger and share one request
      // (without it, the first leaves alone and the second waits for it: two requests)
      await Promise.all([producer.send(record('a')), producer.send(record('b'))]);
      assert.equal(
        producer.requests - before,
        2,
        'records within the linger of a request share the next one',
      );
      // after a quiet spell the first record leaves at once; one queued behind it waits out the
      // linger, so one arriving once the first is stored still joins it (without the wait
      // between requests, the second would already be on its way: three requests)
      await quiet();
      const c = producer.send(record('c'));
      const d = producer.send(record('d'));
      await c;
      await Promise.all([d, producer.send(record('e'))]);
      assert.equal(producer.requests - before, 4, 'c at once, then d and e together');
    } finally {
      await producer.close();
    }
  });

  it('produces with the idempotent batching producer, consumes in a group and commits offsets', async () => {
    const keys = ['a', 'b', 'c', 'd'];
    const produce = async (from: number, to: number) => {
      const producer = new BatchingProducer(kafka);
      await producer.connect();
      // all at once: the producer has to batch them into few requests
      await Promise.all(
        Array.from({ length: to - from }, (_, n) => from + n).map((i) =>
          producer.send({ topic, key: keys[i % keys.length]!, value: Buffer.from(String(i)) }),
        ),
      );
      await producer.close();
    };
    const total = 440;
    await produce(0, 400);

    const group = `${prefix}.group`;
    const seen = new Map<string, number[]>();
    let count = 0;
    const reached: Array<[number, () => void]> = [];
    const seenUpTo = (n: number) => new Promise<void>((r) => reached.push([n, r]));
    const consumer = new BatchConsumer(kafka, {
      groupId: group,
      topics: [topic],
      logger: quietLogger,
      handle: async (batch) => {
        for (const m of batch.messages) {
          const key = m.key!.toString();
          seen.set(key, [...(seen.get(key) ?? []), Number(m.value!.toString())]);
          count++;
        }
        for (const [n, r] of reached) if (count >= n) r();
      },
    });
    const admin = kafka.admin();
    await admin.connect();
    const committedToTheEnd = async () => {
      const ends = await admin.fetchTopicOffsets(topic);
      const committed = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      for (const p of committed[0]!.partitions) {
        const end = ends.find((e) => e.partition === p.partition)!;
        // a partition that never held a record has nothing to commit (-1)
        const expected = end.offset === '0' ? '-1' : end.offset;
        assert.equal(p.offset, expected, `partition ${p.partition} committed up to its end`);
      }
    };
    try {
      const first = seenUpTo(400);
      await consumer.start();
      await first;
      // a running consumer commits what it handled once a second, every partition at once
      await waitFor(committedToTheEnd);
      // stopping commits what was handled since the last commit, at once
      const rest = seenUpTo(total);
      await produce(400, total);
      await rest;
      await consumer.stop();
      await committedToTheEnd();
    } finally {
      await admin.disconnect();
      await consumer.stop();
    }
    // checked once the offsets are committed, so a late redelivery would be counted too
    // every record exactly once by identity: a loss plus a duplicate must not pass as "400"
    const received = [...seen.values()].flat().sort((a, b) => a - b);
    assert.deepEqual(
      received,
      Array.from({ length: total }, (_, i) => i),
      'each record consumed exactly once',
    );
    for (const [key, values] of seen) {
      const sorted = [...values].sort((a, b) => a - b);
      assert.deepEqual(values, sorted, `records of key ${key} arrive in the order they were sent`);
      const k = keys.indexOf(key);
      assert.ok(
        values.every((v) => v % keys.length === k),
        `records of key ${key} carry that key`,
      );
    }
  });

  after(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });
  it('a consumer kafkajs gives up on (a bug in a handler) is replaced, and its batch comes again', async () => {
    const crashTopic = `${prefix}.crash.v1`;
    await ensureTopics(kafka, [{ topic: crashTopic, numPartitions: 1, replicationFactor: 1 }]);
    const producer = new BatchingProducer(kafka);
    await producer.connect();
    await producer.send({ topic: crashTopic, key: 'k', value: Buffer.from('x') });
    await producer.close();
    let calls = 0;
    let handled = false;
    const consumer = new BatchConsumer(kafka, {
      groupId: `${prefix}.crash`,
      topics: [crashTopic],
      logger: quietLogger,
      handle: async () => {
        // a TypeError is one kafkajs neither retries nor restarts the consumer for
        if (++calls === 1) throw new TypeError('a bug');
        handled = true;
      },
    });
    try {
      await consumer.start();
      await waitFor(() => assert.equal(calls >= 1 && !consumer.isRunning, true, 'not ready while replaced'));
      await waitFor(() => assert.ok(handled && consumer.isRunning, 'handled by the replacement'), 30_000);
      assert.equal(calls, 2);
    } finally {
      await consumer.stop();
    }
  });

  it('delayed commits: a skipped batch comes again, nothing is committed before the store confirms, rewind replays', async () => {
    const delayedTopic = `${prefix}.delayed.v1`;
    await ensureTopics(kafka, [{ topic: delayedTopic, numPartitions: 1, replicationFactor: 1 }]);
    const producer = new BatchingProducer(kafka);
    await producer.connect();
    const produce = (from: number, to: number) =>
      Promise.all(
        Array.from({ length: to - from }, (_, i) =>
          producer.send({ topic: delayedTopic, key: 'k', value: Buffer.from(String(from + i)) }),
        ),
      );
    const group = `${prefix}.delayed`;
    const seen: number[] = [];
    let skipNext = true;
    let confirm = false;
    const consumer: BatchConsumer = new BatchConsumer(kafka, {
      groupId: group,
      topics: [delayedTopic],
      logger: quietLogger,
      commitDelayMs: 200,
      handle: async (batch) => {
        if (skipNext) {
          skipNext = false;
          return SKIP_BATCH;
        }
        const startedAt = consumer.storeClock();
        for (const m of batch.messages) seen.push(Number(m.value!.toString()));
        if (confirm) consumer.confirmStoreWrite(startedAt);
      },
    });
    const admin = kafka.admin();
    await admin.connect();
    const committed = async () =>
      (await admin.fetchOffsets({ groupId: group, topics: [delayedTopic] }))[0]!.partitions[0]!.offset;
    try {
      await produce(0, 10);
      await consumer.start();
      const ten = Array.from({ length: 10 }, (_, i) => i);
      await waitFor(() =>
        assert.deepEqual(seen, ten, 'the skipped batch is fetched again, each record once'),
      );

      // nothing confirmed, so nothing committed: the rewind hands every record over again
      await new Promise((r) => setTimeout(r, 1_500)); // past the window and a commit tick: time alone commits nothing
      await consumer.rewind();
      await waitFor(() => assert.deepEqual(seen, [...ten, ...ten], 'replayed from the committed offset'));
      assert.equal(await committed(), '-1');

      // confirmed writes: what was handled a window before one of them is committed, not the rest
      confirm = true;
      await produce(10, 20);
      await waitFor(() => assert.equal(seen.length, 30));
      await new Promise((r) => setTimeout(r, 300)); // the next write starts a window later
      await produce(20, 21);
      await waitFor(async () => assert.equal(await committed(), '20'));
      await consumer.rewind();
      await waitFor(() => assert.deepEqual(seen.slice(31), [20], 'only the unconfirmed record comes again'));
    } finally {
      await admin.disconnect();
      await consumer.stop();
      await producer.close();
    }
  });

  it('delayed commits once the traffic stops: a probe write of the store lets the last batches be committed', async () => {
    const idleTopic = `${prefix}.idle.v1`;
    await ensureTopics(kafka, [{ topic: idleTopic, numPartitions: 1, replicationFactor: 1 }]);
    const producer = new BatchingProducer(kafka);
    await producer.connect();
    let probes = 0;
    let seen = 0;
    const consumer = new BatchConsumer(kafka, {
      groupId: `${prefix}.idle`,
      topics: [idleTopic],
      logger: quietLogger,
      commitDelayMs: 200,
      handle: async (batch) => {
        seen += batch.messages.length; // nothing written: only a probe can confirm the store
      },
      probeStore: async () => {
        probes++;
      },
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await consumer.start();
      await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          producer.send({ topic: idleTopic, key: 'k', value: Buffer.from(String(i)) }),
        ),
      );
      await waitFor(() => assert.equal(seen, 5));
      await waitFor(async () =>
        assert.equal(
          (await admin.fetchOffsets({ groupId: `${prefix}.idle`, topics: [idleTopic] }))[0]!.partitions[0]!
            .offset,
          '5',
        ),
      );
      assert.ok(probes >= 1 && probes <= 3, `${probes} probes for one idle stretch`);
    } finally {
      await admin.disconnect();
      await consumer.stop();
      await producer.close();
    }
  });
});
