import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageServiceHarness } from './harness.js';

// ADR 0011: search is off the message path, so OpenSearch being down must not keep messaging down.
describe('message service start (real Kafka, Cassandra, NATS)', () => {
  it('starts and stays up while OpenSearch cannot be reached', async () => {
    const h = await MessageServiceHarness.start({ OPENSEARCH_URL: 'http://127.0.0.1:9' });
    try {
      await new Promise((r) => setTimeout(r, 2_000));
      assert.ok(h.service.running, 'the process is still running');
    } finally {
      await h.stop();
    }
  });
});
