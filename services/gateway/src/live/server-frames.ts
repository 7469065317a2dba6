import type { AnyServerFrame } from '@im/proto/client/v1';
import type { LiveEvent } from '@im/proto/events/v1';

/** A server frame as sent on the socket: its proto shape (frames.proto) as JSON. */
export function serverFrameJson(frame: AnyServerFrame): string {
  return JSON.stringify(frame);
}

/** The WebSocket frame for a live event, serialized once per gateway and shared by all sockets. */
export function liveEventToFrame(event: LiveEvent): string | undefined {
  const e = event.event;
  switch (e?.$case) {
    case 'messageNew':
      return serverFrameJson({ type: 'message.new', message: e.value });
    case 'messageUpdated':
      return serverFrameJson({ type: 'message.updated', message: e.value });
    case 'read':
      return serverFrameJson({
        type: 'read',
        conversationId: e.value.conversationId,
        userId: e.value.userId,
        seq: e.value.seq,
      });
    case 'typing':
      return serverFrameJson({
        type: 'typing',
        conversationId: e.value.conversationId,
        userId: e.value.userId,
      });
    case 'presence':
      return serverFrameJson({ type: 'presence', ...e.value });
    case 'conversationUpdated':
      return serverFrameJson({ type: 'conversation.updated', conversation: e.value });
    case 'conversationInvited':
      return serverFrameJson({ type: 'conversation.invited', invitation: e.value });
    default:
      return undefined;
  }
}
