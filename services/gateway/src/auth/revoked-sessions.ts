import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Logger } from '@im/platform/logging';
import { LOGGER, NATS, Readiness, REGISTRY } from '@im/platform/nest';
import { RevocationWatch, type NatsConnection } from '@im/platform/nats';
import type { Registry } from '@im/platform/registry';
import type { SessionRevoked } from '@im/proto/events/v1';
import { Downstream } from '../clients/downstream.js';

type Listener = (sessionId: string, reason: string) => void;

/**
 * Sessions revoked by logout or refresh-token reuse, watched from the KV bucket auth writes.
 * The watch delivers every live entry at start and each new one within milliseconds, so a
 * revoked session is refused here as soon as NATS carries the entry (see docs/security.md for
 * the bound). Entries expire with the last access token they could concern. Each time the watch
 * starts, the revocations auth kept in Cassandra are read back too, so none depends on NATS alone.
 */
@Injectable()
export class RevokedSessions implements OnModuleInit, OnApplicationShutdown {
  private readonly revoked = new Map<string, number>();
  private readonly listeners = new Set<Listener>();
  private readonly watch: RevocationWatch;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    @Inject(NATS) nats: NatsConnection,
    @Inject(REGISTRY) registry: Registry,
    @Inject(LOGGER) logger: Logger,
    readiness: Readiness,
    private readonly downstream: Downstream,
  ) {
    this.watch = new RevocationWatch(nats, registry.buckets.revokedSessions, logger);
    readiness.add({
      name: 'revocations',
      check: async () => {
        if (!this.watch.watching) throw new Error(`not watching ${registry.buckets.revokedSessions} yet`);
      },
    });
  }

  onModuleInit(): void {
    this.watch.start(
      (ev) => {
        // read back and watched both: a session is announced to the listeners once
        const known = this.revoked.has(ev.sessionId);
        this.revoked.set(ev.sessionId, ev.expiresAt ? Date.parse(ev.expiresAt) : Date.now() + 3_600_000);
        if (!known) for (const l of this.listeners) l(ev.sessionId, ev.reason);
      },
      (apply) => this.kept(apply),
    );
    this.sweeper = setInterval(() => {
      const now = Date.now();
      for (const [sid, until] of this.revoked) if (until < now) this.revoked.delete(sid);
    }, 60_000);
    this.sweeper.unref();
  }

  onApplicationShutdown(): void {
    this.watch.stop();
    clearInterval(this.sweeper);
  }

  private async kept(apply: (page: readonly SessionRevoked[]) => void): Promise<void> {
    let pageToken = '';
    do {
      const page = await this.downstream.auth.listRecentRevocations({ pageToken });
      apply(page.revocations);
      pageToken = page.nextPageToken;
    } while (pageToken);
  }

  isRevoked(sessionId: string): boolean {
    return this.revoked.has(sessionId);
  }

  onRevoked(listener: Listener): void {
    this.listeners.add(listener);
  }
}
