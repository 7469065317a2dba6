import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from '@im/platform/logging';
import { isPlainPublish, type Msg, type NatsConnection, type Subscription } from '@im/platform/nats';
import { LOGGER, NATS, REGISTRY } from '@im/platform/nest';
import type { Registry } from '@im/platform/registry';
import { meter } from '@im/platform/telemetry';
import { LiveEvent } from '@im/proto/events/v1';
import { liveEventToFrame } from './server-frames.js';
import { ConnectionRegistry } from './connection-registry.js';
import { ConversationMembers } from './conversation-members.js';

type LiveEventKind = NonNullable<LiveEvent['event']>['$case'];

/** Events of one large conversation waiting for its member set, beyond which they are dropped. */
const MAX_WAITING_PER_CONVERSATION = 1_000;
/** After a reconnect to NATS, the sockets' syncs are spread over this long, or 1 ms per socket. */
const RESYNC_SPREAD_MS = 5_000;

/**
 * Interest-based routing: this gateway subscribes to im.live.user.<id> (events from the message
 * service) and im.typing.user.<id> (typing, from presence) only while the user has a socket here,
 * so a publish costs O(online members), not O(gateways). Each event is decoded and serialized
 * once, then written to every socket of the user. Events of large conversations come once per
 * conversation (im.live.conversation.*.*) to every gateway, which writes them to its connected
 * members, in the order they came.
 */
@Injectable()
export class LiveRouter implements OnApplicationShutdown {
  private readonly subs = new Map<string, Subscription[]>();
  private conversationSub: Subscription | undefined;
  /** Per large conversation: the delivery in progress, so events keep their order. */
  private readonly conversationQueues = new Map<string, { tail: Promise<void>; waiting: number }>();
  private readonly dropped = meter().createCounter('im_gateway_live_dropped_total', {
    description:
      'live events not delivered: of large conversations (member set unavailable, or too many waiting; clients heal with sync), or not a plain publish of the kind the subject carries',
  });
  private readonly delivered = meter().createCounter('im_gateway_live_frames_total', {
    description: 'live event frames written to sockets',
  });

  constructor(
    @Inject(NATS) private readonly nats: NatsConnection,
    @Inject(REGISTRY) private readonly names: Registry,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly connections: ConnectionRegistry,
    private readonly members: ConversationMembers,
  ) {
    connections.onUserPresence({
      userOnline: (userId) => this.subscribe(userId),
      userOffline: (userId) => this.unsubscribe(userId),
    });
    this.conversationSub = nats.subscribe(names.subjects.liveConversations, {
      callback: (err, msg) => {
        if (err) return this.logger.warn({ err }, 'live conversation subscription error');
        if (!this.accepted(msg)) return;
        const [conversationId, tenantId] = msg.subject.split('.').reverse();
        this.enqueue(tenantId!, conversationId!, msg.data);
      },
    });
    void (async () => {
      for await (const s of nats.status()) if (s.type === 'reconnect') this.resyncAll();
    })().catch(() => undefined);
  }

  /**
   * NATS drops what was published while this gateway was cut off from it, and a client that gets
   * no later event of a conversation would never see a gap: every socket here is told to sync.
   */
  private resyncAll(): void {
    const sockets = [...this.connections.all()];
    const spread = Math.max(RESYNC_SPREAD_MS, sockets.length);
    for (const conn of sockets)
      conn.sendFrame({ type: 'resync', afterMs: Math.floor(Math.random() * spread) });
    this.logger.warn(
      { sockets: sockets.length, spreadMs: spread },
      'reconnected to NATS: sockets told to sync',
    );
  }

  onApplicationShutdown(): void {
    for (const subs of this.subs.values()) for (const sub of subs) sub.unsubscribe();
    this.subs.clear();
    this.conversationSub?.unsubscribe();
  }

  private enqueue(tenantId: string, conversationId: string, data: Uint8Array): void {
    const queue = this.conversationQueues.get(conversationId) ?? { tail: Promise.resolve(), waiting: 0 };
    if (queue.waiting >= MAX_WAITING_PER_CONVERSATION) {
      this.dropped.add(1, { reason: 'backlog' });
      return;
    }
    queue.waiting++;
    const tail = queue.tail
      .then(() => this.deliverToMembers(tenantId, conversationId, data))
      .catch((err: unknown) => {
        // dropped like any at-most-once event: the members heal with sync
        this.dropped.add(1, { reason: 'members' });
        this.logger.warn({ err: String(err), conversationId }, 'large-conversation event not delivered');
      })
      .finally(() => {
        queue.waiting--;
        if (queue.waiting === 0 && this.conversationQueues.get(conversationId) === queue)
          this.conversationQueues.delete(conversationId);
      });
    queue.tail = tail;
    this.conversationQueues.set(conversationId, queue);
  }

  private async deliverToMembers(tenantId: string, conversationId: string, data: Uint8Array): Promise<void> {
    if (this.connections.userCount === 0) return;
    const members = await this.members.of(tenantId, conversationId);
    const json = this.frameOf(data, conversationId);
    if (!json) return;
    let n = 0;
    const write = (userId: string) => {
      for (const conn of this.connections.ofUser(userId) ?? []) if (conn.send(json)) n++;
    };
    // whichever is smaller: this gateway's users, or the conversation's members
    if (this.connections.userCount < members.size) {
      for (const userId of this.connections.users()) if (members.has(userId)) write(userId);
    } else for (const userId of members) write(userId);
    this.delivered.add(n);
  }

  private subscribe(userId: string): void {
    if (this.subs.has(userId)) return;
    const on = (subject: string, only?: LiveEventKind) =>
      this.nats.subscribe(subject, {
        callback: (err, msg) => {
          if (err) {
            this.logger.warn({ err, userId }, 'live subscription error');
            return;
          }
          if (this.accepted(msg)) this.deliver(userId, msg.data, only);
        },
      });
    this.subs.set(userId, [
      on(this.names.subjects.liveUser(userId)),
      on(this.names.subjects.typingTo(userId), 'typing'),
    ]);
  }

  private unsubscribe(userId: string): void {
    for (const sub of this.subs.get(userId) ?? []) sub.unsubscribe();
    this.subs.delete(userId);
  }

  private accepted(msg: Msg): boolean {
    if (isPlainPublish(msg)) return true;
    this.dropped.add(1, { reason: 'not_published' });
    return false;
  }

  /** The event as a frame; undefined if it does not decode, or is not of the kind the subject carries. */
  private frameOf(data: Uint8Array, about: string, only?: LiveEventKind): string | undefined {
    try {
      const event = LiveEvent.decode(data);
      if (only && event.event?.$case !== only) {
        this.dropped.add(1, { reason: 'kind' });
        return undefined;
      }
      return liveEventToFrame(event);
    } catch (err) {
      this.logger.warn({ err, about }, 'undecodable live event dropped');
      return undefined;
    }
  }

  private deliver(userId: string, data: Uint8Array, only?: LiveEventKind): void {
    const conns = this.connections.ofUser(userId);
    if (!conns) return;
    const json = this.frameOf(data, userId, only);
    if (!json) return;
    let n = 0;
    for (const conn of conns) if (conn.send(json)) n++;
    this.delivered.add(n);
  }
}
