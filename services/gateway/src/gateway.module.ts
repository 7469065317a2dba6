import { Inject, Injectable, Module, type DynamicModule } from '@nestjs/common';
import { grpcDependencyCheck } from '@im/platform/grpc';
import type { Logger } from '@im/platform/logging';
import { CONFIG, PlatformModule, Readiness } from '@im/platform/nest';
import { JwksCache } from './auth/jwks-cache.js';
import { RevokedSessions } from './auth/revoked-sessions.js';
import { ApiKeys } from './auth/api-keys.js';
import { TokenVerifier } from './auth/token-verifier.js';
import { Downstream } from './clients/downstream.js';
import type { GatewayConfig } from './config.js';
import { Messaging } from './domain/messaging.js';
import { SendLimiter } from './domain/send-limiter.js';
import { PublicServer } from './http/public-server.js';
import { ConnectionRegistry } from './live/connection-registry.js';
import { LiveRouter } from './live/live-router.js';
import { ConversationMembers } from './live/conversation-members.js';
import { PresenceReporter } from './presence/presence-reporter.js';
import { PresenceRouter } from './presence/presence-router.js';
import { FrameRouter } from './ws/frame-router.js';
import { InFlightRequests } from './domain/in-flight-requests.js';
import { WsEndpoint } from './ws/ws-endpoint.js';

/** The gateway is ready when NATS and every service it routes to answer their health checks. */
@Injectable()
class DownstreamReadiness {
  constructor(readiness: Readiness, @Inject(CONFIG) config: GatewayConfig) {
    readiness.add(grpcDependencyCheck('auth', config.AUTH_GRPC_ADDR));
    readiness.add(grpcDependencyCheck('message', config.MESSAGE_GRPC_ADDR));
    readiness.add(grpcDependencyCheck('presence', config.PRESENCE_GRPC_ADDR));
    readiness.add(grpcDependencyCheck('media', config.MEDIA_GRPC_ADDR));
    readiness.add(grpcDependencyCheck('notification', config.NOTIFICATION_GRPC_ADDR));
  }
}

@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig, logger: Logger): DynamicModule {
    return {
      module: GatewayModule,
      imports: [PlatformModule.forRoot({ service: 'gateway', config, logger, nats: true })],
      providers: [
        DownstreamReadiness,
        Downstream,
        JwksCache,
        RevokedSessions,
        ApiKeys,
        TokenVerifier,
        SendLimiter,
        Messaging,
        ConnectionRegistry,
        ConversationMembers,
        LiveRouter,
        PresenceRouter,
        PresenceReporter,
        FrameRouter,
        InFlightRequests,
        WsEndpoint,
        PublicServer,
      ],
    };
  }
}
