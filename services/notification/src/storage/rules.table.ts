import { Inject, Injectable } from '@nestjs/common';
import type { CassandraClient } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';
import {
  DEFAULT_USER_RULES,
  type ConversationRules,
  type Level,
  type Previews,
  type UserRules,
} from '../domain/notification-rules.js';

/** user_rules and conversation_rules: what each user set. */
@Injectable()
export class RulesTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  async user(userId: string): Promise<UserRules> {
    const row = (
      await this.db.execute(
        'SELECT previews, quiet_start, quiet_end, time_zone, keywords FROM user_rules WHERE user_id = ?',
        [userId],
      )
    ).first();
    if (!row) return DEFAULT_USER_RULES;
    const start = row.get('quiet_start') as string | null;
    return {
      previews: ((row.get('previews') as string | null) ?? 'full') as Previews,
      quietHours: start
        ? { start, end: row.get('quiet_end') as string, timeZone: row.get('time_zone') as string }
        : undefined,
      keywords: (row.get('keywords') as string[] | null) ?? [],
    };
  }

  async putUser(userId: string, r: UserRules): Promise<void> {
    await this.db.execute(
      'INSERT INTO user_rules (user_id, previews, quiet_start, quiet_end, time_zone, keywords) VALUES (?, ?, ?, ?, ?, ?)',
      [
        userId,
        r.previews,
        r.quietHours?.start ?? null,
        r.quietHours?.end ?? null,
        r.quietHours?.timeZone ?? null,
        [...r.keywords],
      ],
    );
  }

  async conversation(userId: string, conversationId: string): Promise<ConversationRules> {
    const row = (
      await this.db.execute(
        'SELECT level, muted_until FROM conversation_rules WHERE user_id = ? AND conversation_id = ?',
        [userId, conversationId],
      )
    ).first();
    return {
      level: (row?.get('level') as Level | null) ?? undefined,
      mutedUntil: (row?.get('muted_until') as Date | null) ?? undefined,
    };
  }

  async putConversation(userId: string, conversationId: string, r: ConversationRules): Promise<void> {
    await this.db.execute(
      'INSERT INTO conversation_rules (user_id, conversation_id, level, muted_until) VALUES (?, ?, ?, ?)',
      [userId, conversationId, r.level ?? null, r.mutedUntil ?? null],
    );
  }
}
