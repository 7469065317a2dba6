import { baseEnv, cassandraEnv, grpcServerEnv } from '@im/platform/config';
import { z } from 'zod';

export const mediaConfigSchema = z.object({
  ...baseEnv,
  ...grpcServerEnv,
  ...cassandraEnv,
});

export type MediaConfig = z.output<typeof mediaConfigSchema>;
