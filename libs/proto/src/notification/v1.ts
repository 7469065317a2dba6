// Entry point for proto package im.notification.v1 (generated code under src/gen).
export * from '../gen/im/notification/v1/notification.js';
