import { Inject, Injectable } from '@nestjs/common';
import { allRows, type CassandraClient, type Statement } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';
import type { Reactors } from '../domain/message-updates.js';
import { monotonicTimestamp } from './monotonic-timestamp.js';

/**
 * message_reactions ((conversation_id, seq), emoji, user_id): who reacted, per message (the
 * sequencer's source for counts); reactions_by_user ((conversation_id, user_id), seq, emoji): a
 * reader's own reactions, for `me`. Both written at the update's version timestamp, so an add and
 * a remove of the same reaction settle in version order whatever lands last.
 */
@Injectable()
export class ReactionsTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  async reactorsOf(conversationId: string, seq: number): Promise<Reactors> {
    const out: Reactors = new Map();
    for await (const row of allRows(
      this.db,
      'SELECT emoji, user_id, reacted_at FROM message_reactions WHERE conversation_id = ? AND seq = ?',
      [conversationId, seq],
    )) {
      const emoji = row.get('emoji') as string;
      let users = out.get(emoji);
      if (!users) out.set(emoji, (users = new Map()));
      users.set(row.get('user_id') as string, (row.get('reacted_at') as Date).getTime());
    }
    return out;
  }

  /** The reader's reactions on messages fromSeq..toSeq: seq → emojis. */
  async mine(
    conversationId: string,
    userId: string,
    fromSeq: number,
    toSeq: number,
  ): Promise<Map<number, Set<string>>> {
    const out = new Map<number, Set<string>>();
    for await (const row of allRows(
      this.db,
      'SELECT seq, emoji FROM reactions_by_user WHERE conversation_id = ? AND user_id = ? AND seq >= ? AND seq <= ?',
      [conversationId, userId, fromSeq, toSeq],
    )) {
      const seq = Number(row.get('seq'));
      let emojis = out.get(seq);
      if (!emojis) out.set(seq, (emojis = new Set()));
      emojis.add(row.get('emoji') as string);
    }
    return out;
  }

  statements(
    conversationId: string,
    seq: number,
    r: { userId: string; emoji: string; add: boolean; at: Date; version: number },
  ): Statement[] {
    const ts = monotonicTimestamp(r.version);
    if (r.add)
      return [
        {
          query:
            'INSERT INTO message_reactions (conversation_id, seq, emoji, user_id, reacted_at) VALUES (?, ?, ?, ?, ?) USING TIMESTAMP ?',
          params: [conversationId, seq, r.emoji, r.userId, r.at, ts],
        },
        {
          query:
            'INSERT INTO reactions_by_user (conversation_id, user_id, seq, emoji) VALUES (?, ?, ?, ?) USING TIMESTAMP ?',
          params: [conversationId, r.userId, seq, r.emoji, ts],
        },
      ];
    return [
      {
        query:
          'DELETE FROM message_reactions USING TIMESTAMP ? WHERE conversation_id = ? AND seq = ? AND emoji = ? AND user_id = ?',
        params: [ts, conversationId, seq, r.emoji, r.userId],
      },
      {
        query:
          'DELETE FROM reactions_by_user USING TIMESTAMP ? WHERE conversation_id = ? AND user_id = ? AND seq = ? AND emoji = ?',
        params: [ts, conversationId, r.userId, seq, r.emoji],
      },
    ];
  }
}
