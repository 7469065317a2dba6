import { createRequire } from 'node:module';

interface RequestQueuePrototype {
  pending: unknown[];
  scheduleCheckPendingRequests(this: RequestQueuePrototype): void;
}

const PATCHED = Symbol.for('im.kafkajs.requestQueueTimer');

/**
 * kafkajs 2.2.4 re-arms a timer after every response on every broker connection even when no
 * request waits (`throttledUntil` is -1, so the delay is minus the epoch: Node clamps it to 1 ms and
 * warns TimeoutNegativeWarning), and the timer re-arms itself: each connection wakes 1,000 times a
 * second for its whole life. Measured here: 0.8 % of a core per idle connection, and every service
 * holds several (tulios/kafkajs#1751, unreleased fix #1768). Only a queue with waiting requests
 * needs the check; a request that gets queued schedules it itself. Applied once per process.
 */
export function stopIdleRequestQueueTimers(): void {
  const require = createRequire(import.meta.url);
  const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as {
    prototype: RequestQueuePrototype & { [PATCHED]?: true };
  };
  const proto = RequestQueue.prototype;
  if (proto[PATCHED]) return;
  const schedule = proto.scheduleCheckPendingRequests;
  if (typeof schedule !== 'function')
    throw new Error('kafkajs RequestQueue.scheduleCheckPendingRequests is gone: review this fix');
  proto.scheduleCheckPendingRequests = function (this: RequestQueuePrototype) {
    if (this.pending.length === 0) return;
    schedule.call(this);
  };
  proto[PATCHED] = true;
}
