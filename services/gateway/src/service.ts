import { runService } from '@im/platform/service';
import { gatewayConfigSchema } from './config.js';
import { GatewayModule } from './gateway.module.js';
import { PublicServer } from './http/public-server.js';

await runService({
  name: 'gateway',
  schema: gatewayConfigSchema,
  module: (config, logger) => GatewayModule.forRoot(config, logger),
  servers: (app) => [app.get(PublicServer)],
});
