import { runService } from '@im/platform/service';
import { PresenceGrpcApi } from './api/presence.grpc.js';
import { presenceConfigSchema } from './config.js';
import { PresenceModule } from './presence.module.js';

await runService({
  name: 'presence',
  schema: presenceConfigSchema,
  module: (config, logger) => PresenceModule.forRoot(config, logger),
  grpc: (app) => [app.get(PresenceGrpcApi).binding()],
});
