import { runService } from '@im/platform/service';
import { NotificationGrpcApi } from './api/notification.grpc.js';
import { notificationConfigSchema } from './config.js';
import { NotificationModule } from './notification.module.js';

await runService({
  name: 'notification',
  schema: notificationConfigSchema,
  module: (config, logger) => NotificationModule.forRoot(config, logger),
  grpc: (app) => [app.get(NotificationGrpcApi).binding()],
});
