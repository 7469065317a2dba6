// Entry point for proto package im.client.v1 (generated code under src/gen).
export * from '../gen/im/client/v1/resources.js';
export * from '../gen/im/client/v1/frames.js';
export * from './frame-types.js';
