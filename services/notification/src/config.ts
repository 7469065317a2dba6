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
  NOTIFICATION_COOLDOWN_MS: env.int(
    'after a push, the next one for the same conversation and user waits at least this long and carries everything since (0: only the window)',
    0,
    0,
    600_000,
  ),
  NOTIFICATION_PRESENCE_CACHE_MS: env.int(
    "how long a recipient's presence, once asked, decides pushes without asking again (0: ask for every message)",
    1_000,
    0,
    10_000,
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
  WEBHOOK_ALLOW_HTTP_LOOPBACK: env.bool(
    'accept http:// webhook URLs on loopback (local development only; the platform command sets it)',
    false,
  ),
  WEBHOOK_RETRY_FOR_SECONDS: env.int(
    'how long a failing webhook delivery is retried before it is dead-lettered',
    3_600,
    1,
    7 * 86_400,
  ),
  WEBHOOK_TIMEOUT_MS: env.int('how long a webhook receiver has to answer one delivery', 10_000, 100, 120_000),
  APNS_KEY_FILE: env.optionalString(
    'APNs token-auth key (.p8 file from Apple); unset: APNs pushes are skipped',
  ),
  APNS_KEY_ID: env.optionalString('the .p8 key’s id (10 characters)'),
  APNS_TEAM_ID: env.optionalString('Apple developer team id'),
  APNS_TOPIC: env.optionalString('the app’s bundle id (apns-topic)'),
  APNS_PRODUCTION: env.bool('api.push.apple.com (true) or the sandbox (false)', false),
  APNS_ENDPOINT: env.optionalString('host:port in place of Apple’s (a proxy, or a local server in tests)'),
  APNS_CA_FILE: env.optionalString('extra CA certificate (PEM) to trust for APNS_ENDPOINT'),
  FCM_CREDENTIALS_FILE: env.optionalString(
    'FCM service-account JSON (client_email, private_key, project_id, token_uri); unset: FCM pushes are skipped',
  ),
  FCM_PROJECT_ID: env.optionalString('Firebase project id (default: the service account’s project_id)'),
  FCM_ENDPOINT: env.url('FCM HTTP v1 API base URL', ['https', 'http']).default('https://fcm.googleapis.com'),
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
