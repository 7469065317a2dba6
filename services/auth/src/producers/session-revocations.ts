import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { CONFIG, NATS, REGISTRY } from '@im/platform/nest';
import { openKv, type KV, type NatsConnection } from '@im/platform/nats';
import type { Registry } from '@im/platform/registry';
import { SessionRevoked } from '@im/proto/events/v1';
import type { AuthConfig } from '../config.js';

/**
 * Publishes revoked sessions to the KV bucket im_revoked_sessions, which every gateway watches.
 * Entries live as long as an access token can, so the bucket holds exactly the revocations that
 * still matter and a gateway that starts later learns them all from the bucket.
 */
@Injectable()
export class SessionRevocations implements OnModuleInit {
  private kv: KV | undefined;

  constructor(
    @Inject(NATS) private readonly nats: NatsConnection,
    @Inject(REGISTRY) private readonly registry: Registry,
    @Inject(CONFIG) private readonly config: AuthConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    this.kv = await openKv(this.nats, this.registry.buckets.revokedSessions, {
      ttl: (this.config.ACCESS_TOKEN_TTL_SEC + 60) * 1000,
      history: 1,
    });
  }

  async publish(revoked: SessionRevoked): Promise<void> {
    await this.kv!.put(revoked.sessionId, SessionRevoked.encode(revoked).finish());
  }
}
