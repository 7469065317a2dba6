import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from '@im/platform/logging';
import type { NatsConnection, Subscription } from '@im/platform/nats';
import { LOGGER, NATS, REGISTRY } from '@im/platform/nest';
import type { Registry } from '@im/platform/registry';
import { Presence } from '@im/proto/client/v1';
import { ConnectionRegistry } from '../live/connection-registry.js';
import { serverFrameJson } from '../live/server-frames.js';
import type { Connection } from '../ws/connection.js';

interface Watch {
  sub: Subscription;
  sockets: Set<Connection>;
}

/**
 * presence frames for the users each socket asked about (presence.subscribe). The gateway holds
 * one NATS subscription per watched user of its sockets (im.presence.<tenant>.<user>: only users of
 * the socket's own tenant can be watched) and writes each change to exactly the sockets watching.
 */
@Injectable()
export class PresenceRouter implements OnApplicationShutdown {
  private readonly watches = new Map<string, Watch>();

  constructor(
    @Inject(NATS) private readonly nats: NatsConnection,
    @Inject(REGISTRY) private readonly names: Registry,
    @Inject(LOGGER) private readonly logger: Logger,
    connections: ConnectionRegistry,
  ) {
    connections.onConnection({ added: () => undefined, removed: (c) => this.watch(c, []) });
  }

  /** Replaces the set of users the socket watches. */
  watch(conn: Connection, userIds: readonly string[]): void {
    const tenant = conn.principal.tenantId;
    const next = new Set(userIds);
    for (const userId of conn.presenceOf ?? []) {
      if (next.has(userId)) continue;
      const subject = this.names.subjects.presenceOf(tenant, userId);
      const w = this.watches.get(subject);
      if (w && w.sockets.delete(conn) && w.sockets.size === 0) {
        w.sub.unsubscribe();
        this.watches.delete(subject);
      }
    }
    for (const userId of next) {
      const subject = this.names.subjects.presenceOf(tenant, userId);
      let w = this.watches.get(subject);
      if (!w) {
        const sockets = new Set<Connection>();
        const sub = this.nats.subscribe(subject, {
          callback: (_err, msg) => this.deliver(sockets, msg.data),
        });
        w = { sub, sockets };
        this.watches.set(subject, w);
      }
      w.sockets.add(conn);
    }
    conn.presenceOf = next.size > 0 ? next : undefined;
  }

  onApplicationShutdown(): void {
    for (const w of this.watches.values()) w.sub.unsubscribe();
    this.watches.clear();
  }

  private deliver(sockets: ReadonlySet<Connection>, data: Uint8Array): void {
    try {
      const json = serverFrameJson({ type: 'presence', ...Presence.decode(data) });
      for (const conn of sockets) conn.send(json);
    } catch (err) {
      this.logger.warn({ err }, 'undecodable presence event dropped');
    }
  }
}
