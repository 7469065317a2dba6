import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { AppError } from '@im/platform/errors';
import { CONFIG, NATS, REGISTRY } from '@im/platform/nest';
import type { NatsConnection } from '@im/platform/nats';
import { KeyedTokenBuckets } from '@im/platform/rate-limit';
import type { Registry } from '@im/platform/registry';
import type { Caller } from '@im/proto/common/v1';
import { LiveEvent } from '@im/proto/events/v1';
import { MessageClient } from '../clients/message.client.js';
import type { PresenceConfig } from '../config.js';

/**
 * Typing notices: fire-and-forget over core NATS to the other members' sockets (not the typist's
 * own devices), at most one per user and conversation per TYPING_THROTTLE_MS. Nothing is stored;
 * clients show the indicator for a few seconds (docs/protocol.md) unless it is repeated.
 */
/**
 * Typing notices that get past the throttle, per user: a burst, then a few per second. Each may
 * cost a membership read (random conversation ids miss every cache), so a client cannot turn
 * typing frames into a stream of database reads.
 */
const CHECKS_BURST = 10;
const CHECKS_PER_SEC = 2;

@Injectable()
export class TypingService implements OnApplicationShutdown {
  private readonly lastSent = new Map<string, number>();
  private readonly checks = new KeyedTokenBuckets(CHECKS_PER_SEC, CHECKS_BURST, 100_000);
  private readonly sweeper = setInterval(() => this.checks.sweep(), 60_000).unref();

  constructor(
    private readonly messages: MessageClient,
    @Inject(NATS) private readonly nats: NatsConnection,
    @Inject(REGISTRY) private readonly registry: Registry,
    @Inject(CONFIG) private readonly config: PresenceConfig,
  ) {}

  async typing(caller: Caller, conversationId: string): Promise<boolean> {
    if (!/^[A-Za-z0-9-]{1,64}$/.test(conversationId))
      throw new AppError('invalid_argument', 'conversationId: must be an id');
    const key = `${caller.userId}/${conversationId}`;
    const now = Date.now();
    if (now - (this.lastSent.get(key) ?? 0) < this.config.TYPING_THROTTLE_MS) return false;
    const wait = this.checks.take(caller.userId, now);
    if (wait > 0)
      throw new AppError(
        'rate_limited',
        `typing in too many conversations: ${CHECKS_BURST} at once, then ${CHECKS_PER_SEC} per second`,
        wait,
      );
    const others = await this.messages.otherMembers(caller, conversationId);
    if (others === null) throw new AppError('not_found', 'no such conversation');
    this.lastSent.set(key, now);
    if (this.lastSent.size > 100_000) this.forgetOld(now);
    const data = LiveEvent.encode({
      event: { $case: 'typing', value: { conversationId, userId: caller.userId } },
    }).finish();
    for (const userId of others) this.nats.publish(this.registry.subjects.typingTo(userId), data);
    return true;
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
  }

  private forgetOld(now: number): void {
    for (const [k, t] of this.lastSent)
      if (now - t >= this.config.TYPING_THROTTLE_MS) this.lastSent.delete(k);
  }
}
