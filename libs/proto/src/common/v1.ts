// Entry point for proto package im.common.v1 (generated code under src/gen).
export * from '../gen/im/common/v1/common.js';
