import { Injectable } from '@nestjs/common';
import { bindService, requireCaller as caller, type ServiceBinding } from '@im/platform/grpc';
import { NotificationServiceService } from '@im/proto/notification/v1';
import { DevicesService } from '../devices/devices.service.js';
import { VapidKeys } from '../providers/vapid-keys.js';
import { SettingsService } from '../settings/settings.service.js';
import { WebhooksService } from '../webhooks/webhooks.service.js';

/** im.notification.v1.NotificationService: unpack, check the caller, call the domain. */
@Injectable()
export class NotificationGrpcApi {
  constructor(
    private readonly devices: DevicesService,
    private readonly settings: SettingsService,
    private readonly vapid: VapidKeys,
    private readonly webhooks: WebhooksService,
  ) {}

  binding(): ServiceBinding {
    return bindService('im.notification.v1.NotificationService', NotificationServiceService, {
      registerDevice: (r) => this.devices.register(caller(r.caller), r.platform, r.token, r.subscription),
      listDevices: async (r) => ({ devices: await this.devices.list(caller(r.caller)) }),
      removeDevice: async (r) => {
        await this.devices.remove(caller(r.caller), r.deviceId);
        return {};
      },
      getWebPushKey: async () => ({ publicKey: (await this.vapid.get()).publicKey }),
      getSettings: async (r) => ({ settings: await this.settings.get(caller(r.caller)) }),
      updateSettings: async (r) => ({ settings: await this.settings.update(caller(r.caller), r) }),
      getConversationSettings: async (r) => ({
        settings: await this.settings.getConversation(caller(r.caller), r.conversationId),
      }),
      createWebhook: (r) => this.webhooks.create(caller(r.caller), r.url, r.events),
      listWebhooks: async (r) => ({ webhooks: await this.webhooks.list(caller(r.caller)) }),
      deleteWebhook: async (r) => {
        await this.webhooks.remove(caller(r.caller), r.webhookId);
        return {};
      },
      listDeadLetters: async (r) => ({
        deadLetters: await this.webhooks.deadLetters(caller(r.caller), r.webhookId),
      }),
      updateConversationSettings: async (r) => ({
        settings: await this.settings.updateConversation(caller(r.caller), r),
      }),
    });
  }
}
