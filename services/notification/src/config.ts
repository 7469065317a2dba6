import { baseEnv, cassandraEnv, env, grpcServerEnv, kafkaEnv, natsEnv } from '@im/platform/config';
import { z } from 'zod';

export const notificationConfigSchema = z.object({
  ...baseEnv,
  ...grpcServerEnv,
  ...cassandraEnv,
  ...kafkaEnv,
  ...natsEnv,
  MESSAGE_GRPC_ADDR: env.grpcAddress('message'),
  PRESENCE_GRPC_ADDR: env.grpcAddress('presence'),
  AUTH_GRPC_ADDR: env.grpcAddress('auth'),
  NOTIFICATION_BATCH_WINDOW_MS: env.int(
    'messages of one conversation arriving within this window after the first make one push per user',
    2_000,
    0,
    60_000,
  ),
  NOTIFICATION_PUSH_WHEN_AWAY: env.bool(
    'push users whose devices are connected but idle (presence away)',
    true,
  ),
  NOTIFICATION_BUSY_ALLOWS_MENTIONS: env.bool('busy (do not disturb) still lets mentions through', true),
  NOTIFICATION_MAX_PENDING: env.int(
    'pushes waiting for a provider before the service stops taking new events (bounded memory)',
    10_000,
    100,
    1_000_000,
  ),
  NOTIFICATION_RETRY_FOR_SECONDS: env.int(
    'how long a push is retried while its provider fails (429/5xx, unreachable) before it is dropped and logged',
    600,
    1,
    86_400,
  ),
  NOTIFICATION_TTL_SECONDS: env.int(
    'how long push services keep a push for an unreachable device',
    86_400,
    0,
    2_419_200,
  ),
  WEBPUSH_VAPID_PUBLIC_KEY: env.optionalString(
    'VAPID public key (base64url); with the private key unset too, a pair is made once and kept in Cassandra',
  ),
  WEBPUSH_VAPID_PRIVATE_KEY: env.optionalString('VAPID private key (base64url)'),
  WEBPUSH_VAPID_SUBJECT: env
    .string('VAPID subject: a mailto: or https: contact for push services')
    .default('mailto:admin@localhost'),
  WEBPUSH_ALLOW_HTTP_LOOPBACK: env.bool(
    'accept http:// Web Push endpoints on loopback (local development only; the platform command sets it)',
    false,
  ),
});

export type NotificationConfig = z.output<typeof notificationConfigSchema>;
