import {
  conversationNotificationBody,
  conversationParams,
  deviceParams,
  notificationSettingsBody,
  registerDeviceBody,
  createWebhookBody,
  webhookParams,
} from './request-schemas.js';
import { caller, route, type Route, type RouteDeps } from './routes.js';

const settingsSchema = {
  type: 'object',
  properties: {
    readReceipts: { type: 'boolean' },
    previews: { type: 'string', enum: ['full', 'sender', 'none'] },
    quietHours: {
      type: 'object',
      properties: { start: { type: 'string' }, end: { type: 'string' }, timeZone: { type: 'string' } },
    },
    keywords: { type: 'array', items: { type: 'string' } },
  },
};

const conversationSettingsSchema = {
  type: 'object',
  properties: {
    level: {
      type: 'string',
      enum: ['all', 'mentions', 'none', 'default'],
      description: 'default: mentions in channels, all elsewhere',
    },
    mutedUntil: { type: 'string', format: 'date-time' },
  },
};

/** Push targets and the rules that decide what notifies (DESIGN §4). */
export function notificationRoutes(d: RouteDeps): Route[] {
  const n = () => d.downstream.notification;
  return [
    route({
      method: 'POST',
      path: '/v1/devices',
      summary:
        'Register a push target for this session (APNs or FCM token, or a Web Push subscription); the same target again is updated, not duplicated',
      tag: 'notifications',
      auth: true,
      body: registerDeviceBody,
      responses: { 201: 'Device', 200: 'Device', 400: 'Error', 409: 'Error' },
      handler: async ({ principal, body }) => {
        const res = await n().registerDevice({
          caller: caller(principal),
          platform: body.platform,
          token: body.token ?? '',
          ...(body.subscription ? { subscription: body.subscription } : {}),
        });
        return { status: res.created ? 201 : 200, body: res.device };
      },
    }),
    route({
      method: 'GET',
      path: '/v1/devices',
      summary: 'The caller’s push targets',
      tag: 'notifications',
      auth: true,
      responses: {
        200: {
          type: 'object',
          properties: { devices: { type: 'array', items: { $ref: '#/components/schemas/Device' } } },
        },
      },
      handler: async ({ principal }) => ({
        status: 200,
        body: { devices: (await n().listDevices({ caller: caller(principal) })).devices },
      }),
    }),
    route({
      method: 'DELETE',
      path: '/v1/devices/:id',
      summary: 'Remove a push target',
      tag: 'notifications',
      auth: true,
      params: deviceParams,
      responses: { 204: {}, 404: 'Error' },
      handler: async ({ principal, params }) => {
        await n().removeDevice({ caller: caller(principal), deviceId: params.id });
        return { status: 204 };
      },
    }),
    route({
      method: 'GET',
      path: '/v1/devices/webpush-key',
      summary: 'The VAPID public key browsers pass as applicationServerKey when they subscribe',
      tag: 'notifications',
      auth: true,
      responses: { 200: { type: 'object', properties: { publicKey: { type: 'string' } } } },
      handler: async () => ({ status: 200, body: { publicKey: (await n().getWebPushKey({})).publicKey } }),
    }),
    route({
      method: 'GET',
      path: '/v1/me/notification-settings',
      summary: 'The caller’s notification settings and read-receipt choice',
      tag: 'notifications',
      auth: true,
      responses: { 200: settingsSchema },
      handler: async ({ principal }) => {
        const [receipts, rules] = await Promise.all([
          d.downstream.message.getUserSettings({ caller: caller(principal) }),
          n().getSettings({ caller: caller(principal) }),
        ]);
        return {
          status: 200,
          body: { readReceipts: receipts.settings?.readReceipts ?? true, ...rules.settings },
        };
      },
    }),
    route({
      method: 'PUT',
      path: '/v1/me/notification-settings',
      summary: 'Change the caller’s settings (fields left out stay as they are)',
      tag: 'notifications',
      auth: true,
      body: notificationSettingsBody,
      responses: { 200: settingsSchema, 400: 'Error' },
      handler: async ({ principal, body }) => {
        // the notification service checks its fields (time zones) first: a refusal changes nothing
        const rules = await n().updateSettings({
          caller: caller(principal),
          previews: body.previews,
          ...(body.quietHours ? { quietHours: body.quietHours } : {}),
          clearQuietHours: body.quietHours === null,
          keywords: body.keywords ?? [],
          setKeywords: body.keywords !== undefined,
        });
        const receipts = await d.downstream.message.updateUserSettings({
          caller: caller(principal),
          readReceipts: body.readReceipts,
        });
        return {
          status: 200,
          body: { readReceipts: receipts.settings?.readReceipts ?? true, ...rules.settings },
        };
      },
    }),
    route({
      method: 'GET',
      path: '/v1/conversations/:id/notification-settings',
      summary: 'What notifies the caller in this conversation',
      tag: 'notifications',
      auth: true,
      params: conversationParams,
      responses: { 200: conversationSettingsSchema, 404: 'Error' },
      handler: async ({ principal, params }) => ({
        status: 200,
        body: (await n().getConversationSettings({ caller: caller(principal), conversationId: params.id }))
          .settings,
      }),
    }),
    route({
      method: 'PUT',
      path: '/v1/conversations/:id/notification-settings',
      summary: 'Set the level (all, mentions, none) and mute until a time',
      tag: 'notifications',
      auth: true,
      params: conversationParams,
      body: conversationNotificationBody,
      responses: { 200: conversationSettingsSchema, 400: 'Error', 404: 'Error' },
      handler: async ({ principal, params, body }) => ({
        status: 200,
        body: (
          await n().updateConversationSettings({
            caller: caller(principal),
            conversationId: params.id,
            level: body.level,
            ...(body.mutedUntil ? { mutedUntil: body.mutedUntil } : {}),
            clearMutedUntil: body.mutedUntil === null,
          })
        ).settings,
      }),
    }),
    route({
      method: 'POST',
      path: '/v1/webhooks',
      summary: 'Send the tenant’s events to a URL, HMAC-signed (tenant admins); the secret is shown once',
      tag: 'webhooks',
      auth: true,
      body: createWebhookBody,
      responses: {
        201: {
          type: 'object',
          properties: { webhook: { $ref: '#/components/schemas/Webhook' }, secret: { type: 'string' } },
        },
        400: 'Error',
        403: 'Error',
        409: 'Error',
      },
      handler: async ({ principal, body }) => ({
        status: 201,
        body: await n().createWebhook({ caller: caller(principal), url: body.url, events: body.events }),
      }),
    }),
    route({
      method: 'GET',
      path: '/v1/webhooks',
      summary: 'The tenant’s webhooks (tenant admins)',
      tag: 'webhooks',
      auth: true,
      responses: {
        200: {
          type: 'object',
          properties: { webhooks: { type: 'array', items: { $ref: '#/components/schemas/Webhook' } } },
        },
        403: 'Error',
      },
      handler: async ({ principal }) => ({
        status: 200,
        body: { webhooks: (await n().listWebhooks({ caller: caller(principal) })).webhooks },
      }),
    }),
    route({
      method: 'DELETE',
      path: '/v1/webhooks/:id',
      summary: 'Stop a webhook (tenant admins)',
      tag: 'webhooks',
      auth: true,
      params: webhookParams,
      responses: { 204: {}, 403: 'Error', 404: 'Error' },
      handler: async ({ principal, params }) => {
        await n().deleteWebhook({ caller: caller(principal), webhookId: params.id });
        return { status: 204 };
      },
    }),
    route({
      method: 'GET',
      path: '/v1/webhooks/:id/dead-letters',
      summary: 'Deliveries given up after their retries, newest first (tenant admins)',
      tag: 'webhooks',
      auth: true,
      params: webhookParams,
      responses: {
        200: {
          type: 'object',
          properties: {
            deadLetters: { type: 'array', items: { $ref: '#/components/schemas/WebhookDeadLetter' } },
          },
        },
        403: 'Error',
        404: 'Error',
      },
      handler: async ({ principal, params }) => ({
        status: 200,
        body: {
          deadLetters: (await n().listDeadLetters({ caller: caller(principal), webhookId: params.id }))
            .deadLetters,
        },
      }),
    }),
  ];
}
