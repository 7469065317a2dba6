import type { LiveEvent } from '@im/proto/events/v1';

/** The WebSocket frame (JSON) for a live event, serialized once per gateway and shared by all sockets. */
export function liveEventToFrame(event: LiveEvent): string | undefined {
  const e = event.event;
  switch (e?.$case) {
    case 'messageNew':
      return JSON.stringify({ type: 'message.new', message: e.value });
    case 'messageUpdated':
      return JSON.stringify({ type: 'message.updated', message: e.value });
    case 'read':
      return JSON.stringify({
        type: 'read',
        conversationId: e.value.conversationId,
        userId: e.value.userId,
        seq: e.value.seq,
      });
    case 'typing':
      return JSON.stringify({
        type: 'typing',
        conversationId: e.value.conversationId,
        userId: e.value.userId,
      });
    case 'presence':
      return JSON.stringify({ type: 'presence', ...e.value });
    case 'conversationUpdated':
      return JSON.stringify({ type: 'conversation.updated', conversation: e.value });
    default:
      return undefined;
  }
}
