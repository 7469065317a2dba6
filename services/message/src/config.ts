import { baseEnv, cassandraEnv, grpcServerEnv, kafkaEnv, natsEnv } from '@im/platform/config';
import { z } from 'zod';

export const messageConfigSchema = z.object({
  ...baseEnv,
  ...grpcServerEnv,
  ...cassandraEnv,
  ...kafkaEnv,
  ...natsEnv,
});

export type MessageConfig = z.output<typeof messageConfigSchema>;
