export * from './client.js';
export * from './batching-producer.js';
export * from './batch-consumer.js';
export * from './delayed-commits.js';
export * from './decode-records.js';
export * from './access.js';
export { stopIdleRequestQueueTimers } from './request-queue-timer.js';
