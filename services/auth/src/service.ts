import { runService } from '@im/platform/service';
import { AuthModule } from './auth.module.js';
import { authConfigSchema } from './config.js';

await runService({
  name: 'auth',
  schema: authConfigSchema,
  module: (config, logger) => AuthModule.forRoot(config, logger),
  grpc: () => [],
});
