import { fileURLToPath } from 'node:url';
import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule } from '@im/platform/nest';
import type { Logger } from '@im/platform/logging';
import type { AuthConfig } from './config.js';

const MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));

@Module({})
export class AuthModule {
  static forRoot(config: AuthConfig, logger: Logger): DynamicModule {
    return {
      module: AuthModule,
      imports: [
        PlatformModule.forRoot({
          service: 'auth',
          config,
          logger,
          cassandra: { migrationsDir: MIGRATIONS },
          nats: true,
        }),
      ],
    };
  }
}
