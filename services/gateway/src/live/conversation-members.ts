import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { NatsConnection, Subscription } from '@im/platform/nats';
import { NATS, REGISTRY } from '@im/platform/nest';
import type { Registry } from '@im/platform/registry';
import { Downstream } from '../clients/downstream.js';

const TTL_MS = 30_000;
const MAX_CONVERSATIONS = 1_000;
const PAGE = 5_000;

interface Entry {
  members: Promise<ReadonlySet<string>>;
  until: number;
}

/**
 * The members of large conversations, for the events published once per conversation (ADR 0007):
 * loaded from the message service when such an event first arrives, dropped when the message
 * service announces a membership change (before it publishes anything that follows the change),
 * and after 30 s at most if an announcement is lost.
 */
@Injectable()
export class ConversationMembers implements OnModuleInit, OnApplicationShutdown {
  private readonly entries = new Map<string, Entry>();
  private sub: Subscription | undefined;

  constructor(
    private readonly downstream: Downstream,
    @Inject(NATS) private readonly nats: NatsConnection,
    @Inject(REGISTRY) private readonly registry: Registry,
  ) {}

  onModuleInit(): void {
    this.sub = this.nats.subscribe(this.registry.subjects.membershipChanged, {
      callback: (_err, msg) => {
        this.entries.delete(msg.string());
      },
    });
  }

  onApplicationShutdown(): void {
    this.sub?.unsubscribe();
  }

  of(tenantId: string, conversationId: string): Promise<ReadonlySet<string>> {
    const hit = this.entries.get(conversationId);
    if (hit && hit.until > Date.now()) return hit.members;
    if (this.entries.size >= MAX_CONVERSATIONS) this.entries.delete(this.entries.keys().next().value!);
    const members = this.load(tenantId, conversationId);
    const entry = { members, until: Date.now() + TTL_MS };
    this.entries.set(conversationId, entry);
    // a failed load is not kept: the next event asks again
    members.catch(() => {
      if (this.entries.get(conversationId) === entry) this.entries.delete(conversationId);
    });
    return members;
  }

  private async load(tenantId: string, conversationId: string): Promise<ReadonlySet<string>> {
    const ids = new Set<string>();
    let after = '';
    do {
      const page = await this.downstream.message.listMembers({
        tenantId,
        conversationId,
        afterUserId: after,
        limit: PAGE,
      });
      for (const m of page.members) ids.add(m.userId);
      after = page.nextAfterUserId;
    } while (after);
    return ids;
  }
}
