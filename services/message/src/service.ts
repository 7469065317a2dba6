import { runService } from '@im/platform/service';
import { MessageGrpcApi } from './api/message.grpc.js';
import { messageConfigSchema } from './config.js';
import { MessageModule } from './message.module.js';

await runService({
  name: 'message',
  schema: messageConfigSchema,
  module: (config, logger) => MessageModule.forRoot(config, logger),
  grpc: (app) => [app.get(MessageGrpcApi).binding()],
});
