import { runService } from '@im/platform/service';
import { AuthGrpcApi } from './api/auth.grpc.js';
import { AuthModule } from './auth.module.js';
import { authConfigSchema } from './config.js';

await runService({
  name: 'auth',
  schema: authConfigSchema,
  module: (config, logger) => AuthModule.forRoot(config, logger),
  grpc: (app) => [app.get(AuthGrpcApi).binding()],
});
