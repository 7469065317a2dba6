import { Injectable } from '@nestjs/common';
import type { ConversationRules, UserRules } from '../domain/notification-rules.js';
import { RulesTable } from '../storage/rules.table.js';

const TTL_MS = 30_000;
const MAX_ENTRIES = 200_000;

/**
 * Rules read for every recipient of every message, cached 30 s. This replica forgets its copy when
 * a user changes them here; another replica may push by the old rules for up to 30 s.
 */
@Injectable()
export class RulesCache {
  private readonly users = new Map<string, { value: UserRules; until: number }>();
  private readonly conversations = new Map<string, { value: ConversationRules; until: number }>();

  constructor(private readonly table: RulesTable) {}

  user(userId: string): Promise<UserRules> {
    return this.cached(this.users, userId, () => this.table.user(userId));
  }

  conversation(userId: string, conversationId: string): Promise<ConversationRules> {
    return this.cached(this.conversations, `${userId}|${conversationId}`, () =>
      this.table.conversation(userId, conversationId),
    );
  }

  forgetUser(userId: string): void {
    this.users.delete(userId);
  }

  forgetConversation(userId: string, conversationId: string): void {
    this.conversations.delete(`${userId}|${conversationId}`);
  }

  private async cached<T>(
    map: Map<string, { value: T; until: number }>,
    key: string,
    load: () => Promise<T>,
  ) {
    const hit = map.get(key);
    if (hit && hit.until > Date.now()) return hit.value;
    const value = await load();
    if (map.size >= MAX_ENTRIES) map.clear();
    map.set(key, { value, until: Date.now() + TTL_MS });
    return value;
  }
}
