import { baseEnv, env, natsEnv } from '@im/platform/config';
import { z } from 'zod';

const grpcAddress = (service: string) =>
  z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9.\-_]+:\d{1,5}$/, 'must be host:port')
    .describe(`gRPC address of the ${service} service (host:port)`);

export const gatewayConfigSchema = z.object({
  ...baseEnv,
  ...natsEnv,
  PUBLIC_PORT: env.port('port of the public REST API and WebSocket', 8080),
  AUTH_GRPC_ADDR: grpcAddress('auth'),
  MESSAGE_GRPC_ADDR: grpcAddress('message'),
  PRESENCE_GRPC_ADDR: grpcAddress('presence'),
  MEDIA_GRPC_ADDR: grpcAddress('media'),
  NOTIFICATION_GRPC_ADDR: grpcAddress('notification'),
});

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
