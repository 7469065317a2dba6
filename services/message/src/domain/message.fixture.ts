import type { Message } from '@im/proto/client/v1';

/** A stored message for unit tests: seq `seq` of conversation "c" by "ana", with `extra` over it. */
export function messageFixture(seq: number, extra: Partial<Message> = {}): Message {
  return {
    id: `m${seq}`,
    conversationId: 'c',
    seq,
    senderId: 'ana',
    clientMsgId: `k${seq}`,
    text: `text ${seq}`,
    createdAt: '2026-01-01T00:00:00.000Z',
    attachments: [],
    reactions: [],
    version: 0,
    mentions: [],
    replyCount: 0,
    lastReplySeq: 0,
    ...extra,
  };
}
