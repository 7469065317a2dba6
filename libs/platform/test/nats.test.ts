import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AckPolicy, jetstream } from '@nats-io/jetstream';
import {
  connectNats,
  ensureStream,
  jetStreamManager,
  openKv,
  traceContextOf,
  traceHeaders,
  type NatsConnection,
} from '../src/nats/index.js';
import { infra, quietLogger, uniquePrefix } from './env.js';

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
    await new Promise((r) => setTimeout(r, 2_500));
    const expired = await kv.get('user.u1');
    assert.equal(expired, null, 'entry gone after its TTL');
  });

  it('carries the trace context in message headers', async () => {
    // with the SDK not started there is no active span: no header, and extraction is harmless
    assert.equal(traceHeaders(), undefined);
    assert.ok(traceContextOf(undefined));
  });
});
