// Entry point for proto package im.events.v1 (generated code under src/gen).
export * from '../gen/im/events/v1/conversation_commands.js';
export * from '../gen/im/events/v1/conversation_events.js';
export * from '../gen/im/events/v1/live_events.js';
export * from '../gen/im/events/v1/auth_events.js';
export * from '../gen/im/events/v1/media_events.js';
