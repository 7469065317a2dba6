export * from './server.js';
export * from './client.js';
export * from './identity.js';
export * from './request-stream.js';
