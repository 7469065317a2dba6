export * from './client.js';
export * from './socket.js';
export * from './errors.js';
export * from './conversation-log.js';
export * from './uploads.js';
export * from './backoff.js';
export * from './connection.js';
export * from './outbox.js';
export * from './chat.js';
export type {
  AnyServerFrame,
  Attachment,
  Conversation,
  Invitation,
  Media,
  Message,
  Presence,
  SearchResult,
  ServerFrameOf,
  User,
} from '@im/proto/client/v1';
export * from './tenant-admin.js';
