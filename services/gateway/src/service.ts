import { runService } from '@im/platform/service';
import { gatewayConfigSchema } from './config.js';
import { GatewayModule } from './gateway.module.js';

await runService({
  name: 'gateway',
  schema: gatewayConfigSchema,
  module: (config, logger) => GatewayModule.forRoot(config, logger),
});
