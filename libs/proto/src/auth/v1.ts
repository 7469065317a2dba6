// Entry point for proto package im.auth.v1 (generated code under src/gen).
export * from '../gen/im/auth/v1/auth.js';
