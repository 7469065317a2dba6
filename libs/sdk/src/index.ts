export * from './client.js';
export * from './socket.js';
export * from './errors.js';
export * from './conversation-log.js';
export * from './uploads.js';
