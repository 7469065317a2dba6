import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { headers } from '@nats-io/nats-core';
import { isPlainPublish } from './plain-publish.js';

describe('plain publishes and what JetStream sends (ADR 0023)', () => {
  it('takes a publish with or without trace headers; refuses deliveries, direct-get answers and republishes', () => {
    const trace = headers();
    trace.set('traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    assert.equal(isPlainPublish({ reply: '', headers: undefined }), true);
    assert.equal(isPlainPublish({ reply: '', headers: trace }), true);

    assert.equal(isPlainPublish({ reply: '$JS.ACK.KV_b.c.1.2.2.1764.0', headers: undefined }), false);
    assert.equal(
      isPlainPublish({ reply: '$JS.FC.KV_b.x.y', headers: headers(100, 'FlowControl Request') }),
      false,
    );
    assert.equal(isPlainPublish({ reply: '', headers: headers(100, 'Idle Heartbeat') }), false);
    const stored = headers();
    stored.set('Nats-Stream', 'KV_b');
    stored.set('Nats-Subject', '$KV.b.k');
    stored.set('Nats-Sequence', '7');
    assert.equal(
      isPlainPublish({ reply: '', headers: stored }),
      false,
      'a direct get answered to a live subject',
    );
  });
});
