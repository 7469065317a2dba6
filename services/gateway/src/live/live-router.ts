import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from '@im/platform/logging';
import type { NatsConnection, Subscription } from '@im/platform/nats';
import { LOGGER, NATS, REGISTRY } from '@im/platform/nest';
import type { Registry } from '@im/platform/registry';
import { meter } from '@im/platform/telemetry';
import { LiveEvent } from '@im/proto/events/v1';
import { liveEventToFrame } from './server-frames.js';
import { ConnectionRegistry } from './connection-registry.js';

/**
 * Interest-based routing: this gateway subscribes to im.live.user.<id> only while the user has a
 * socket here, so a publish costs O(online members), not O(gateways). Each event is decoded and
 * serialized once, then written to every socket of the user.
 */
@Injectable()
export class LiveRouter implements OnApplicationShutdown {
  private readonly subs = new Map<string, Subscription>();
  private readonly delivered = meter().createCounter('im_gateway_live_frames_total', {
    description: 'live event frames written to sockets',
  });

  constructor(
    @Inject(NATS) private readonly nats: NatsConnection,
    @Inject(REGISTRY) private readonly names: Registry,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly connections: ConnectionRegistry,
  ) {
    connections.onUserPresence({
      userOnline: (userId) => this.subscribe(userId),
      userOffline: (userId) => this.unsubscribe(userId),
    });
  }

  onApplicationShutdown(): void {
    for (const sub of this.subs.values()) sub.unsubscribe();
    this.subs.clear();
  }

  private subscribe(userId: string): void {
    if (this.subs.has(userId)) return;
    const sub = this.nats.subscribe(this.names.subjects.liveUser(userId), {
      callback: (err, msg) => {
        if (err) {
          this.logger.warn({ err, userId }, 'live subscription error');
          return;
        }
        this.deliver(userId, msg.data);
      },
    });
    this.subs.set(userId, sub);
  }

  private unsubscribe(userId: string): void {
    this.subs.get(userId)?.unsubscribe();
    this.subs.delete(userId);
  }

  private deliver(userId: string, data: Uint8Array): void {
    const conns = this.connections.ofUser(userId);
    if (!conns) return;
    let event: LiveEvent;
    try {
      event = LiveEvent.decode(data);
    } catch (err) {
      this.logger.warn({ err, userId }, 'undecodable live event dropped');
      return;
    }
    const json = liveEventToFrame(event);
    if (!json) return;
    let n = 0;
    for (const conn of conns) if (conn.send(json)) n++;
    this.delivered.add(n);
  }
}
