import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Logger } from '@im/platform/logging';
import { LOGGER, NATS, Readiness, REGISTRY } from '@im/platform/nest';
import { bindKv, type NatsConnection } from '@im/platform/nats';
import type { Registry } from '@im/platform/registry';
import { SessionRevoked } from '@im/proto/events/v1';

type Listener = (sessionId: string, reason: string) => void;

/**
 * Sessions revoked by logout or refresh-token reuse, watched from the KV bucket auth writes.
 * The watch delivers every live entry at start and each new one within milliseconds, so a
 * revoked session is refused here as soon as NATS carries the entry (see docs/security.md for
 * the bound). Entries expire with the last access token they could concern.
 */
@Injectable()
export class RevokedSessions implements OnModuleInit, OnApplicationShutdown {
  private readonly revoked = new Map<string, number>();
  private readonly listeners = new Set<Listener>();
  private watching = false;
  private stopped = false;
  private stopWatch: (() => void) | undefined;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    @Inject(NATS) private readonly nats: NatsConnection,
    @Inject(REGISTRY) private readonly registry: Registry,
    @Inject(LOGGER) private readonly logger: Logger,
    readiness: Readiness,
  ) {
    readiness.add({
      name: 'revocations',
      check: async () => {
        if (!this.watching) throw new Error(`not watching ${registry.buckets.revokedSessions} yet`);
      },
    });
  }

  onModuleInit(): void {
    void this.watchLoop();
    this.sweeper = setInterval(() => {
      const now = Date.now();
      for (const [sid, until] of this.revoked) if (until < now) this.revoked.delete(sid);
    }, 60_000);
    this.sweeper.unref();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    this.stopWatch?.();
    clearInterval(this.sweeper);
  }

  isRevoked(sessionId: string): boolean {
    return this.revoked.has(sessionId);
  }

  onRevoked(listener: Listener): void {
    this.listeners.add(listener);
  }

  /** The bucket appears when auth starts; until then, and after a NATS outage, keep trying. */
  private async watchLoop(): Promise<void> {
    while (!this.stopped) {
      try {
        const kv = await bindKv(this.nats, this.registry.buckets.revokedSessions);
        const iter = await kv.watch();
        this.stopWatch = () => iter.stop();
        this.watching = true;
        for await (const entry of iter) {
          if (entry.operation !== 'PUT') continue;
          const ev = decodeRevocation(entry.value);
          if (!ev) {
            // one bad entry must not stop the watch (it would restart at the same entry forever)
            this.logger.warn({ key: entry.key }, 'undecodable revocation entry skipped');
            continue;
          }
          this.revoked.set(ev.sessionId, ev.expiresAt ? Date.parse(ev.expiresAt) : Date.now() + 3_600_000);
          for (const l of this.listeners) l(ev.sessionId, ev.reason);
        }
      } catch (err) {
        if (!this.stopped) this.logger.debug({ err }, 'revocation watch not available yet');
      }
      this.watching = false;
      if (!this.stopped) await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

function decodeRevocation(value: Uint8Array): SessionRevoked | undefined {
  try {
    const ev = SessionRevoked.decode(value);
    return ev.sessionId ? ev : undefined;
  } catch {
    return undefined;
  }
}
