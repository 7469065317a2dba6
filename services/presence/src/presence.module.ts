import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from '@im/platform/logging';
import { PlatformModule } from '@im/platform/nest';
import { PresenceGrpcApi } from './api/presence.grpc.js';
import { MessageClient } from './clients/message.client.js';
import type { PresenceConfig } from './config.js';
import { PresenceService } from './domain/presence.service.js';
import { TypingService } from './domain/typing.service.js';
import { PresencePublisher } from './producers/presence-publisher.js';
import { GatewayLeases } from './storage/gateway-leases.js';
import { PresenceKv } from './storage/presence-kv.js';

@Module({})
export class PresenceModule {
  static forRoot(config: PresenceConfig, logger: Logger): DynamicModule {
    return {
      module: PresenceModule,
      imports: [PlatformModule.forRoot({ service: 'presence', config, logger, nats: true })],
      providers: [
        PresenceKv,
        GatewayLeases,
        PresencePublisher,
        MessageClient,
        PresenceService,
        TypingService,
        PresenceGrpcApi,
      ],
    };
  }
}
