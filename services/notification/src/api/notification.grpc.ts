import { Injectable } from '@nestjs/common';
import { bindService, requireCaller as caller, type ServiceBinding } from '@im/platform/grpc';
import { NotificationServiceService } from '@im/proto/notification/v1';
import { DevicesService } from '../devices/devices.service.js';
import { VapidKeys } from '../providers/vapid-keys.js';
import { SettingsService } from '../settings/settings.service.js';

/** im.notification.v1.NotificationService: unpack, check the caller, call the domain. */
@Injectable()
export class NotificationGrpcApi {
  constructor(
    private readonly devices: DevicesService,
    private readonly settings: SettingsService,
    private readonly vapid: VapidKeys,
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
      updateConversationSettings: async (r) => ({
        settings: await this.settings.updateConversation(caller(r.caller), r),
      }),
    });
  }
}
