import { baseEnv, grpcServerEnv, natsEnv } from '@im/platform/config';
import { z } from 'zod';

export const presenceConfigSchema = z.object({
  ...baseEnv,
  ...grpcServerEnv,
  ...natsEnv,
});

export type PresenceConfig = z.output<typeof presenceConfigSchema>;
