import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Logger } from '@im/platform/logging';
import { LOGGER, NATS, REGISTRY } from '@im/platform/nest';
import { RevocationWatch, type NatsConnection } from '@im/platform/nats';
import type { Registry } from '@im/platform/registry';
import { DevicesService } from './devices.service.js';

/**
 * Logout and session revocation remove the session's push targets. The watch replays every live
 * revocation at start, so one that happened while this service was down still lands (entries live
 * as long as the session's last access token could).
 */
@Injectable()
export class SessionRevocations implements OnModuleInit, OnApplicationShutdown {
  private readonly watch: RevocationWatch;

  constructor(
    @Inject(NATS) nats: NatsConnection,
    @Inject(REGISTRY) registry: Registry,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly devices: DevicesService,
  ) {
    this.watch = new RevocationWatch(nats, registry.buckets.revokedSessions, logger);
  }

  onModuleInit(): void {
    this.watch.start((ev) => {
      this.devices.removeSession(ev.sessionId).then(
        (n) => {
          if (n > 0)
            this.logger.info(
              { sessionId: ev.sessionId, devices: n },
              'session ended: its push targets removed',
            );
        },
        (err: unknown) =>
          this.logger.error({ err, sessionId: ev.sessionId }, 'removing a revoked session’s targets failed'),
      );
    });
  }

  onApplicationShutdown(): void {
    this.watch.stop();
  }
}
