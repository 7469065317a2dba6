// Entry point for proto package im.message.v1 (generated code under src/gen).
export * from '../gen/im/message/v1/message.js';
