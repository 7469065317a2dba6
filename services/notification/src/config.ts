import { baseEnv, cassandraEnv, grpcServerEnv, kafkaEnv } from '@im/platform/config';
import { z } from 'zod';

export const notificationConfigSchema = z.object({
  ...baseEnv,
  ...grpcServerEnv,
  ...cassandraEnv,
  ...kafkaEnv,
});

export type NotificationConfig = z.output<typeof notificationConfigSchema>;
