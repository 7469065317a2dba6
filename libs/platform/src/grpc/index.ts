export * from './server.js';
export * from './client.js';
