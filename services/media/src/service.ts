import { runService } from '@im/platform/service';
import { MediaGrpcApi } from './api/media.grpc.js';
import { mediaConfigSchema } from './config.js';
import { MediaModule } from './media.module.js';

await runService({
  name: 'media',
  schema: mediaConfigSchema,
  module: (config, logger) => MediaModule.forRoot(config, logger),
  grpc: (app) => [app.get(MediaGrpcApi).binding()],
});
