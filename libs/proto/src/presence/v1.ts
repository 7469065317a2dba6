// Entry point for proto package im.presence.v1 (generated code under src/gen).
export * from '../gen/im/presence/v1/presence.js';
