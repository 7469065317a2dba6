import { fileURLToPath } from 'node:url';
import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from '@im/platform/logging';
import { PlatformModule } from '@im/platform/nest';
import type { NotificationConfig } from './config.js';

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
        }),
      ],
    };
  }
}
