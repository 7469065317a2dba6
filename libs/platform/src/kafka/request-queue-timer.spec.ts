import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { stopIdleRequestQueueTimers } from './request-queue-timer.js';

interface Queue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  destroy(): void;
}

const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as new (
  options: Record<string, unknown>,
) => Queue;

const newQueue = () =>
  new RequestQueue({
    maxInFlightRequests: null,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'spec',
    broker: 'localhost:9092',
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  });

describe('kafkajs request queue timers', () => {
  it('an idle connection arms no timer after a response; a throttled queue with waiting requests still does', () => {
    stopIdleRequestQueueTimers();
    stopIdleRequestQueueTimers(); // once per process, however often clients are made
    const idle = newQueue();
    idle.checkPendingRequests(); // what every response does
    assert.equal(idle.throttleCheckTimeoutId, null, 'an idle queue re-arms its 1 ms timer (kafkajs#1751)');
    idle.destroy();

    const throttled = newQueue();
    throttled.throttledUntil = Date.now() + 60_000;
    throttled.pending.push({ correlationId: 1 });
    throttled.checkPendingRequests();
    assert.notEqual(throttled.throttleCheckTimeoutId, null, 'waiting requests must be checked later');
    throttled.destroy();
  });
});
