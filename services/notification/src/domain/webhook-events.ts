import { createHmac } from 'node:crypto';
import type { ConversationEvent } from '@im/proto/events/v1';

/** The event types a webhook can ask for. */
export const WEBHOOK_EVENT_TYPES = [
  'message.created',
  'message.updated',
  'member.joined',
  'member.left',
  'conversation.updated',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface WebhookEvent {
  id: string;
  type: WebhookEventType;
  occurredAt: string;
  tenantId: string;
  conversationId: string;
  data: Record<string, unknown>;
}

/**
 * What a conversation event means to webhooks: zero or more typed events (a membership change
 * can add and remove people at once). The id stays the platform's event id, suffixed for the
 * second and later parts, so receivers de-duplicate replays.
 */
export function webhookEventsOf(ev: ConversationEvent): WebhookEvent[] {
  const base = {
    occurredAt: ev.occurredAt ?? new Date().toISOString(),
    tenantId: ev.tenantId,
    conversationId: ev.conversationId,
  };
  const e = ev.event;
  switch (e?.$case) {
    case 'messageCreated':
      return [{ ...base, id: ev.eventId, type: 'message.created', data: { message: e.value.message } }];
    case 'messageUpdated':
      return [
        {
          ...base,
          id: ev.eventId,
          type: 'message.updated',
          data: { message: e.value.message, change: e.value.change, changedBy: e.value.changedBy },
        },
      ];
    case 'membersChanged': {
      const out: WebhookEvent[] = [];
      const by = e.value.changedBy;
      if (e.value.addedUserIds.length > 0)
        out.push({
          ...base,
          id: ev.eventId,
          type: 'member.joined',
          data: { userIds: e.value.addedUserIds, by },
        });
      if (e.value.removedUserIds.length > 0)
        out.push({
          ...base,
          id: out.length > 0 ? `${ev.eventId}.left` : ev.eventId,
          type: 'member.left',
          data: { userIds: e.value.removedUserIds, by },
        });
      return out;
    }
    case 'conversationSettingsChanged':
      return [{ ...base, id: ev.eventId, type: 'conversation.updated', data: { ...e.value } }];
    default:
      return [];
  }
}

/**
 * The signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as Stripe signs.
 * Receivers recompute it with their secret and refuse a `t` outside their replay window.
 */
export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}
