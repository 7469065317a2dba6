// Entry point for proto package im.media.v1 (generated code under src/gen).
export * from '../gen/im/media/v1/media.js';
