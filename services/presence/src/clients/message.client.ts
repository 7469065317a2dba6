import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { createGrpcClient, type PromiseClient } from '@im/platform/grpc';
import { CONFIG } from '@im/platform/nest';
import type { Caller } from '@im/proto/common/v1';
import { MessageServiceService } from '@im/proto/message/v1';
import type { PresenceConfig } from '../config.js';

const TTL_MS = 10_000;
/** A "no" is cheap to ask again (no database read) and may be a join the message service has not seen yet. */
const NO_TTL_MS = 1_000;

/**
 * Membership of conversations (for typing), asked of the message service and cached for 10 s
 * ("not a member": 1 s).
 */
@Injectable()
export class MessageClient implements OnApplicationShutdown {
  private readonly client: PromiseClient<typeof MessageServiceService> & { close(): void };
  private readonly cache = new Map<string, { others: string[] | null; until: number }>();

  constructor(@Inject(CONFIG) config: PresenceConfig) {
    this.client = createGrpcClient(MessageServiceService, {
      name: 'message',
      address: config.MESSAGE_GRPC_ADDR,
      deadlineMs: 2_000,
      idempotent: ['checkMembership'],
    });
  }

  /** The other members of the conversation, or null when the caller is not a member. */
  async otherMembers(caller: Caller, conversationId: string): Promise<string[] | null> {
    const key = `${caller.userId}/${conversationId}`;
    const hit = this.cache.get(key);
    if (hit && hit.until > Date.now()) return hit.others;
    // an id the caller is not in costs no database read (typing may name random ids)
    const res = await this.client.checkMembership({ caller, conversationId, quickNegative: true });
    const others = res.member ? res.otherMemberIds : null;
    if (this.cache.size > 100_000) this.cache.clear();
    this.cache.set(key, { others, until: Date.now() + (others ? TTL_MS : NO_TTL_MS) });
    return others;
  }

  onApplicationShutdown(): void {
    this.client.close();
  }
}
