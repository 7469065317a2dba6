import { Injectable } from '@nestjs/common';
import type { Caller } from '@im/proto/common/v1';
import { MessageClient } from '../clients/message.client.js';
import {
  decide,
  type Decision,
  type NewMessage,
  type PresenceStatus,
  type RulesPolicy,
} from '../domain/notification-rules.js';
import { RulesCache } from '../settings/rules-cache.js';
import { PresenceCache } from './presence-cache.js';

const MEMBERS_TTL_MS = 60_000;
const MEMBERS_CACHED = 10_000;
/** Rules reads in flight for one message (a large channel must not flood Cassandra). */
const RULES_READS_AT_ONCE = 256;

/**
 * Who of a conversation's members gets a push for a new message: the members (cached, dropped on
 * every membership event of the conversation), their presence (asked for a whole consumed batch at
 * once, then cached briefly), their rules.
 */
@Injectable()
export class Recipients {
  private readonly members = new Map<string, { userIds: string[]; until: number }>();

  constructor(
    private readonly messages: MessageClient,
    private readonly presence: PresenceCache,
    private readonly rules: RulesCache,
  ) {}

  forget(conversationId: string): void {
    this.members.delete(conversationId);
  }

  forgetAll(): void {
    this.members.clear();
    this.presence.forgetAll();
  }

  /** Asks presence once per tenant for every recipient of these new messages (decisions then hit the cache). */
  async prefetch(
    messages: ReadonlyArray<{ tenantId: string; conversationId: string; senderId: string }>,
    waiting: (userId: string, conversationId: string) => boolean,
  ): Promise<void> {
    if (!this.presence.enabled || messages.length < 2) return;
    const byTenant = new Map<string, { caller: Caller; userIds: Set<string> }>();
    for (const m of messages) {
      let tenant = byTenant.get(m.tenantId);
      if (!tenant) {
        tenant = { caller: { userId: m.senderId, tenantId: m.tenantId, sessionId: '' }, userIds: new Set() };
        byTenant.set(m.tenantId, tenant);
      }
      for (const userId of await this.memberIds(m.tenantId, m.conversationId))
        if (userId !== m.senderId && !waiting(userId, m.conversationId)) tenant.userIds.add(userId);
    }
    await Promise.all(
      [...byTenant.values()].map(
        (t) => t.userIds.size > 0 && this.presence.statuses(t.caller, [...t.userIds]),
      ),
    );
  }

  async decisions(
    tenantId: string,
    conversationId: string,
    message: NewMessage,
    policy: RulesPolicy,
    now: Date,
    waiting: (userId: string) => boolean,
  ): Promise<Array<{ userId: string; decision: Extract<Decision, { push: true }> }>> {
    const others = (await this.memberIds(tenantId, conversationId)).filter((u) => u !== message.senderId);
    if (others.length === 0) return [];
    // a member with a push waiting in this conversation was found offline moments ago: presence is
    // not asked again (the rules are: a plain message after a mention must not pass a mentions level)
    const ask = others.filter((u) => !waiting(u));
    const caller: Caller = { userId: message.senderId, tenantId, sessionId: '' };
    const statuses =
      ask.length > 0 ? await this.presence.statuses(caller, ask) : new Map<string, PresenceStatus>();
    const out: Array<{ userId: string; decision: Extract<Decision, { push: true }> }> = [];
    for (let i = 0; i < others.length; i += RULES_READS_AT_ONCE)
      await Promise.all(
        others.slice(i, i + RULES_READS_AT_ONCE).map(async (userId) => {
          const presence = waiting(userId) ? 'offline' : (statuses.get(userId) ?? 'offline');
          if (presence === 'online') return; // the cheapest answer first: no rules to read
          const [user, conversation] = await Promise.all([
            this.rules.user(userId),
            this.rules.conversation(userId, conversationId),
          ]);
          const decision = decide(message, { userId, presence, user, conversation }, policy, now);
          if (decision.push) out.push({ userId, decision });
        }),
      );
    return out;
  }

  private async memberIds(tenantId: string, conversationId: string): Promise<string[]> {
    const hit = this.members.get(conversationId);
    if (hit && hit.until > Date.now()) return hit.userIds;
    const userIds: string[] = [];
    for await (const page of this.messages.members(tenantId, conversationId))
      userIds.push(...page.map((m) => m.userId));
    if (this.members.size >= MEMBERS_CACHED) this.members.clear();
    this.members.set(conversationId, { userIds, until: Date.now() + MEMBERS_TTL_MS });
    return userIds;
  }
}
