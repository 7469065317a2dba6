import { runService } from '@im/platform/service';
import { presenceConfigSchema } from './config.js';
import { PresenceModule } from './presence.module.js';

await runService({
  name: 'presence',
  schema: presenceConfigSchema,
  module: (config, logger) => PresenceModule.forRoot(config, logger),
  grpc: () => [],
});
