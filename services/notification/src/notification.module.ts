import { fileURLToPath } from 'node:url';
import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from '@im/platform/logging';
import { PlatformModule } from '@im/platform/nest';
import { NotificationGrpcApi } from './api/notification.grpc.js';
import { AuthClient } from './clients/auth.client.js';
import { MessageClient } from './clients/message.client.js';
import { PresenceClient } from './clients/presence.client.js';
import type { NotificationConfig } from './config.js';
import { DevicesService } from './devices/devices.service.js';
import { SessionRevocations } from './devices/session-revocations.js';
import { Delivery } from './dispatch/delivery.js';
import { PushDispatcher } from './dispatch/push-dispatcher.js';
import { PushSender } from './dispatch/push-sender.js';
import { PresenceCache } from './dispatch/presence-cache.js';
import { Recipients } from './dispatch/recipients.js';
import { VapidKeys } from './providers/vapid-keys.js';
import { ApnsProvider } from './providers/apns.provider.js';
import { FcmProvider } from './providers/fcm.provider.js';
import { WebPushProvider } from './providers/web-push.provider.js';
import { RulesCache } from './settings/rules-cache.js';
import { SettingsService } from './settings/settings.service.js';
import { DevicesTable } from './storage/devices.table.js';
import { PushedUptoTable } from './storage/pushed-upto.table.js';
import { RulesTable } from './storage/rules.table.js';
import { WebhooksTable } from './storage/webhooks.table.js';
import { WebhookDispatcher } from './webhooks/webhook-dispatcher.js';
import { WebhooksService } from './webhooks/webhooks.service.js';

const MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));

@Module({})
export class NotificationModule {
  static forRoot(config: NotificationConfig, logger: Logger): DynamicModule {
    return {
      module: NotificationModule,
      imports: [
        PlatformModule.forRoot({
          service: 'notification',
          config,
          logger,
          cassandra: { migrationsDir: MIGRATIONS },
          kafka: {},
          nats: true,
        }),
      ],
      providers: [
        DevicesTable,
        RulesTable,
        PushedUptoTable,
        MessageClient,
        PresenceClient,
        AuthClient,
        VapidKeys,
        WebPushProvider,
        ApnsProvider,
        FcmProvider,
        Delivery,
        RulesCache,
        DevicesService,
        SettingsService,
        SessionRevocations,
        PresenceCache,
        Recipients,
        PushSender,
        PushDispatcher,
        WebhooksTable,
        WebhooksService,
        WebhookDispatcher,
        NotificationGrpcApi,
      ],
    };
  }
}
