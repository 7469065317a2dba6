import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { trace } from '@opentelemetry/api';
import { AckPolicy, jetstream } from '@nats-io/jetstream';
import {
  connectNats,
  ensureStream,
  jetStreamManager,
  kvValues,
  openKv,
  provisionKv,
  RevocationWatch,
  traceContextOf,
  traceHeaders,
  type KV,
  type NatsConnection,
} from '../src/nats/index.js';
import { startTelemetry } from '../src/telemetry/index.js';
import { infra, quietLogger, uniquePrefix, waitFor } from './env.js';

describe('nats (real server, JetStream)', () => {
  let nc: NatsConnection;
  const prefix = uniquePrefix('nt');

  before(async () => {
    const i = infra();
    nc = await connectNats({
      servers: i.natsUrl,
      user: i.natsUser,
      pass: i.natsPass,
      name: 'platform-test',
      logger: quietLogger,
    });
  });

  after(async () => {
    const jsm = await jetStreamManager(nc);
    for await (const s of jsm.streams.list()) {
      if (s.config.name.startsWith(prefix.toUpperCase()) || s.config.name.startsWith(`KV_${prefix}`)) {
        await jsm.streams.delete(s.config.name);
      }
    }
    await nc.drain();
  });

  it('publishes to a stream and a durable consumer resumes where it acknowledged', async () => {
    const jsm = await jetStreamManager(nc);
    const stream = `${prefix.toUpperCase()}_ORDERS`;
    await ensureStream(jsm, { name: stream, subjects: [`${prefix}.orders.>`] });
    await ensureStream(jsm, { name: stream, subjects: [`${prefix}.orders.>`], max_age: 3_600_000_000_000 }); // update in place (1 h, in ns)
    const js = jetstream(nc);
    for (let i = 1; i <= 6; i++) {
      const ack = await js.publish(`${prefix}.orders.created`, `order-${i}`, { msgID: `order-${i}` });
      assert.equal(ack.duplicate, false);
    }
    // a republish with the same msgID is dropped by the stream
    assert.equal(
      (await js.publish(`${prefix}.orders.created`, 'order-6', { msgID: 'order-6' })).duplicate,
      true,
    );

    await jsm.consumers.add(stream, { durable_name: 'worker', ack_policy: AckPolicy.Explicit });
    const first = await js.consumers.get(stream, 'worker');
    const got: string[] = [];
    for (let i = 0; i < 4; i++) {
      const m = await first.next({ expires: 2_000 });
      assert.ok(m);
      got.push(m.string());
      m.ack();
    }
    await nc.flush();

    // a new handle on the same durable continues after the acknowledged messages
    const again = await js.consumers.get(stream, 'worker');
    const rest: string[] = [];
    for (let i = 0; i < 2; i++) {
      const m = await again.next({ expires: 2_000 });
      assert.ok(m);
      rest.push(m.string());
      m.ack();
    }
    assert.deepEqual(got, ['order-1', 'order-2', 'order-3', 'order-4']);
    assert.deepEqual(rest, ['order-5', 'order-6']);
    const info = await jsm.consumers.info(stream, 'worker');
    assert.equal(info.num_pending, 0);
  });

  it('KV: put/get, and entries expire after the bucket TTL', async () => {
    const kv = await openKv(nc, `${prefix}_presence`, { ttl: 1_000 });
    await kv.put('user.u1', JSON.stringify({ status: 'online' }));
    const entry = await kv.get('user.u1');
    assert.deepEqual(entry?.json(), { status: 'online' });
    // gone once the TTL has passed: polled, as the server expires entries on its own schedule
    const t0 = Date.now();
    await waitFor(async () => assert.equal(await kv.get('user.u1'), null, 'entry gone after its TTL'));
    assert.ok(Date.now() - t0 >= 900, 'the entry lived for its TTL first');
  });

  it('KV: many values in one batched read; missing, deleted and purged keys are absent', async () => {
    const bucket = `${prefix}_many`;
    const kv = await openKv(nc, bucket);
    assert.deepEqual(await kvValues(nc, kv, bucket, ['u.none']), new Map(), 'no key has a value');
    const keys = Array.from({ length: 1_205 }, (_, i) => `u.k${i}`);
    await Promise.all(keys.map((k) => kv.put(k, k)));
    await kv.put('u.k1', 'second');
    await kv.delete('u.k2');
    await kv.purge('u.k3');
    // this server batches (2.11+): the bucket is never asked key by key
    const noGets = { get: () => assert.fail('asked key by key') } as unknown as KV;
    const values = await kvValues(nc, noGets, bucket, [...keys, 'u.none', 'u.k0']);
    assert.equal(values.size, 1_203, 'across two requests (a thousand keys each)');
    assert.equal(new TextDecoder().decode(values.get('u.k1')), 'second', 'the latest value');
    assert.equal(new TextDecoder().decode(values.get('u.k1204')), 'u.k1204');
    for (const gone of ['u.k2', 'u.k3', 'u.none']) assert.equal(values.has(gone), false, gone);
  });

  it('KV provisioning: made, left alone, limits brought to the settings; a stream that is no bucket refused', async () => {
    const bucket = `${prefix}_leases`;
    const want = { ttl: 15_000, markerTTL: 15_000, history: 1 };
    assert.equal(await provisionKv(nc, bucket, want), 'created');
    assert.equal(await provisionKv(nc, bucket, want), 'unchanged');
    // a service configured otherwise sees the bucket as the operator left it, and says so
    const warned: unknown[] = [];
    const kv = await openKv(nc, bucket, { ...want, ttl: 5_000 }, { warn: (o: unknown) => warned.push(o) });
    assert.equal((await kv.status()).ttl, 15_000);
    assert.deepEqual((warned[0] as { drift: string[] }).drift, ['ttl 15000 ms, want 5000 ms']);
    // the operator's run with the new settings updates it in place, entries kept
    await kv.put('gw1', 'x');
    assert.equal(await provisionKv(nc, bucket, { ...want, ttl: 5_000, markerTTL: 5_000 }), 'updated');
    const status = await kv.status();
    assert.deepEqual([status.ttl, status.markerTTL, status.history], [5_000, 5_000, 1]);
    assert.equal((await kv.get('gw1'))?.string(), 'x');

    // a stream under a bucket's name over other subjects (what the create right allowed)
    const jsm = await jetStreamManager(nc);
    const rogue = `${prefix}_rogue`;
    await jsm.streams.add({ name: `KV_${rogue}`, subjects: [`$KV.${rogue}.>`, `${prefix}.live.>`] });
    await assert.rejects(provisionKv(nc, rogue, want), /not a bucket this platform made.*live/);
    await assert.rejects(openKv(nc, rogue, want), /not a bucket this platform made/);
  });

  it('revocation watch: the kept revocations are read back at start and again after every reconnect', async () => {
    const own = await connectNats({
      servers: infra().natsUrl,
      user: infra().natsUser,
      pass: infra().natsPass,
      name: 'platform-test-watch',
      logger: quietLogger,
    });
    await openKv(own, `${prefix}_revoked`, { ttl: 60_000 });
    const watch = new RevocationWatch(own, `${prefix}_revoked`, quietLogger);
    let readBacks = 0;
    const revoked: string[] = [];
    watch.start(
      (ev) => revoked.push(ev.sessionId),
      async (apply) => {
        readBacks++;
        apply([{ sessionId: `kept-${readBacks}`, userId: 'u', expiresAt: '', reason: 'logout' }]);
      },
    );
    try {
      await waitFor(() => assert.ok(watch.watching));
      assert.equal(readBacks, 1);
      // an outage the watch may ride through: what auth kept meanwhile is read back all the same
      await own.reconnect();
      await waitFor(() => assert.equal(readBacks, 2));
      assert.deepEqual(revoked, ['kept-1', 'kept-2']);
    } finally {
      watch.stop();
      await own.close();
    }
  });

  it('carries the trace context in message headers', async () => {
    // without an active span there is nothing to carry
    assert.equal(traceHeaders(), undefined);
    startTelemetry('nats-test'); // W3C propagation and async context, as in a service
    const subject = `${prefix}.traced`;
    const sub = nc.subscribe(subject, { max: 1 });
    const tracer = trace.getTracer('nats-test');
    const sent = tracer.startActiveSpan('publish', (span) => {
      const headers = traceHeaders();
      assert.ok(headers?.get('traceparent'), 'a traceparent header is set under an active span');
      nc.publish(subject, 'x', { headers });
      span.end();
      return span.spanContext();
    });
    for await (const msg of sub) {
      const received = trace.getSpanContext(traceContextOf(msg.headers));
      assert.equal(received?.traceId, sent.traceId, "the receiver continues the sender's trace");
      assert.equal(received?.spanId, sent.spanId, "with the sender's span as parent");
    }
  });
});
