import { baseEnv, env, grpcServerEnv, natsBucketEnv, natsEnv } from '@im/platform/config';
import { z } from 'zod';

export const presenceConfigSchema = z.object({
  ...baseEnv,
  ...grpcServerEnv,
  ...natsEnv,
  MESSAGE_GRPC_ADDR: env.grpcAddress('message'),
  GATEWAY_LEASE_TTL_MS: natsBucketEnv.GATEWAY_LEASE_TTL_MS,
  PRESENCE_OFFLINE_GRACE_MS: env.int(
    'a user whose last device left is announced offline only after this (debounces reconnects)',
    5_000,
    0,
    600_000,
  ),
  PRESENCE_SWEEP_INTERVAL_MS: env.int(
    'how often devices of vanished gateways are swept up (safety net behind lease expiry events)',
    30_000,
    1_000,
    3_600_000,
  ),
  TYPING_THROTTLE_MS: env.int(
    'at most one typing notice per user and conversation per this interval',
    2_000,
    100,
    60_000,
  ),
});

export type PresenceConfig = z.output<typeof presenceConfigSchema>;
