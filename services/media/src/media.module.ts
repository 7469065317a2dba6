import { fileURLToPath } from 'node:url';
import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from '@im/platform/logging';
import { PlatformModule } from '@im/platform/nest';
import type { MediaConfig } from './config.js';

const MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));

@Module({})
export class MediaModule {
  static forRoot(config: MediaConfig, logger: Logger): DynamicModule {
    return {
      module: MediaModule,
      imports: [
        PlatformModule.forRoot({
          service: 'media',
          config,
          logger,
          cassandra: { migrationsDir: MIGRATIONS },
        }),
      ],
    };
  }
}
