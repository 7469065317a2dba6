import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from '@im/platform/logging';
import { PlatformModule } from '@im/platform/nest';
import type { PresenceConfig } from './config.js';

@Module({})
export class PresenceModule {
  static forRoot(config: PresenceConfig, logger: Logger): DynamicModule {
    return {
      module: PresenceModule,
      imports: [PlatformModule.forRoot({ service: 'presence', config, logger, nats: true })],
    };
  }
}
