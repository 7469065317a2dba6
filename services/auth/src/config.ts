import { baseEnv, cassandraEnv, grpcServerEnv, natsEnv } from '@im/platform/config';
import { z } from 'zod';

export const authConfigSchema = z.object({
  ...baseEnv,
  ...grpcServerEnv,
  ...cassandraEnv,
  ...natsEnv,
});

export type AuthConfig = z.output<typeof authConfigSchema>;
