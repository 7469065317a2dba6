import { baseEnv, env, natsEnv } from '@im/platform/config';
import { z } from 'zod';

export const gatewayConfigSchema = z.object({
  ...baseEnv,
  ...natsEnv,
  PUBLIC_PORT: env.port('port of the public REST API and WebSocket', 8080),
  AUTH_GRPC_ADDR: env.grpcAddress('auth'),
  MESSAGE_GRPC_ADDR: env.grpcAddress('message'),
  PRESENCE_GRPC_ADDR: env.grpcAddress('presence'),
  MEDIA_GRPC_ADDR: env.grpcAddress('media'),
  NOTIFICATION_GRPC_ADDR: env.grpcAddress('notification'),
  JWT_ISSUER: z.string().min(1).default('im-auth').describe('expected iss claim of access tokens'),
  JWT_AUDIENCE: z.string().min(1).default('im').describe('expected aud claim of access tokens'),
  JWKS_REFRESH_SEC: env.int('how often the signing keys are re-fetched from auth', 60, 5, 3_600),
  WEB_CLIENT_DIR: z
    .string()
    .optional()
    .describe('directory of the built web client (apps/web/dist) to serve at /; unset: the API only'),
  WEB_CLIENT_MEDIA_ORIGIN: z
    .string()
    .regex(/^https?:\/\/[^/]+$/, 'an origin: scheme://host[:port]')
    .optional()
    .describe(
      "origin of the S3 store's signed URLs, the only place besides itself the web client uploads to and loads images from (unset: any https origin)",
    ),
  TRUSTED_PROXIES: z
    .string()
    .regex(/^[0-9a-fA-F.:/]+(,[0-9a-fA-F.:/]+)*$/, 'comma-separated IP addresses or CIDRs')
    .optional()
    .describe(
      'addresses or CIDRs of the load balancers in front (comma-separated): the client IP is the right-most X-Forwarded-For hop not among them; unset: X-Forwarded-For is ignored',
    ),
  REST_BODY_LIMIT_BYTES: env.int('largest accepted REST request body', 65_536, 1_024, 10_485_760),
  WS_MAX_FRAME_BYTES: env.int(
    'largest accepted WebSocket frame; larger ones get payload_too_large',
    65_536,
    1_024,
    1_048_576,
  ),
  WS_MAX_BUFFERED_BYTES: env.int(
    'outbound bytes a socket may have queued before it is closed as a slow consumer (4408)',
    1_048_576,
    16_384,
    67_108_864,
  ),
  WS_HEARTBEAT_INTERVAL_MS: env.int('server ping interval', 25_000, 1_000, 300_000),
  WS_IDLE_TIMEOUT_MS: env.int(
    'a socket silent this long (no frame, no pong) is closed',
    60_000,
    2_000,
    600_000,
  ),
  WS_AUTH_TIMEOUT_MS: env.int(
    'time to send the auth frame when the upgrade had no Authorization header',
    10_000,
    500,
    60_000,
  ),
  WS_MAX_SOCKETS_PER_USER: env.int(
    'sockets one user may hold on one gateway (all devices, tabs and bots together); past it a new socket gets limit_exceeded and close 4429',
    50,
    1,
    10_000,
  ),
  MAX_IN_FLIGHT: env.int(
    'requests (REST and every socket together) this gateway works on at once; more get unavailable at once, before they queue (load shedding)',
    2_000,
    10,
    1_000_000,
  ),
  WS_MAX_PENDING_REQUESTS: env.int(
    'requests one socket may have in flight; more get rate_limited at once',
    256,
    1,
    100_000,
  ),
  SEND_RATE_PER_SEC: env.int(
    'messages a user may send per second (token bucket, per gateway process)',
    20,
    1,
    100_000,
  ),
  SEND_BURST: env.int('burst size of the per-user send limit', 50, 1, 1_000_000),
  GATEWAY_LEASE_RENEW_MS: env.int(
    'how often this gateway renews its presence lease (well below GATEWAY_LEASE_TTL_MS of the presence service)',
    5_000,
    200,
    300_000,
  ),
});

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
