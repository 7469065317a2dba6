import { Inject, Injectable } from '@nestjs/common';
import { allRows, type CassandraClient, type Statement } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';
import { MENTION_ALL } from '../domain/message-rules.js';
import { monotonicTimestamp } from './monotonic-timestamp.js';

/**
 * mentions_by_user ((user_id, conversation_id), seq) and mentions_of_all ((conversation_id), seq):
 * what the conversation list counts as a user's unread mentions.
 */
@Injectable()
export class MentionsTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  /** The rows of a new message's mentions (the sender's own mention of themselves counts nothing). */
  statements(
    conversationId: string,
    seq: number,
    senderId: string,
    mentions: readonly string[],
  ): Statement[] {
    return mentions.flatMap((m): Statement[] => {
      if (m === MENTION_ALL)
        return [
          {
            query: 'INSERT INTO mentions_of_all (conversation_id, seq, sender_id) VALUES (?, ?, ?)',
            params: [conversationId, seq, senderId],
          },
        ];
      if (m === senderId) return [];
      return [
        {
          query: 'INSERT INTO mentions_by_user (user_id, conversation_id, seq) VALUES (?, ?, ?)',
          params: [m, conversationId, seq],
        },
      ];
    });
  }

  /**
   * Removes a deleted message's mention rows, at its delete's version: a replay of the send, which
   * writes them at the clock's time, never brings them back.
   */
  deleteStatements(
    conversationId: string,
    seq: number,
    senderId: string,
    mentions: readonly string[],
    version: number,
  ): Statement[] {
    const ts = monotonicTimestamp(version);
    return mentions.flatMap((m): Statement[] => {
      if (m === MENTION_ALL)
        return [
          {
            query: 'DELETE FROM mentions_of_all USING TIMESTAMP ? WHERE conversation_id = ? AND seq = ?',
            params: [ts, conversationId, seq],
          },
        ];
      if (m === senderId) return [];
      return [
        {
          query:
            'DELETE FROM mentions_by_user USING TIMESTAMP ? WHERE user_id = ? AND conversation_id = ? AND seq = ?',
          params: [ts, m, conversationId, seq],
        },
      ];
    });
  }

  /** Writes a message's mention rows (the replay of a send whose rows may be lost). */
  async insert(
    conversationId: string,
    seq: number,
    senderId: string,
    mentions: readonly string[],
  ): Promise<void> {
    await Promise.all(
      this.statements(conversationId, seq, senderId, mentions).map((s) => this.db.execute(s.query, s.params)),
    );
  }

  /** The messages after `afterSeq` up to `lastSeq` that mention everyone, every page of them. */
  private async everyoneMentioned(
    conversationId: string,
    afterSeq: number,
    lastSeq: number,
  ): Promise<Array<{ seq: number; senderId: string }>> {
    const out: Array<{ seq: number; senderId: string }> = [];
    for await (const row of allRows(
      this.db,
      'SELECT seq, sender_id FROM mentions_of_all WHERE conversation_id = ? AND seq > ? AND seq <= ?',
      [conversationId, afterSeq, lastSeq],
    ))
      out.push({ seq: Number(row.get('seq')), senderId: row.get('sender_id') as string });
    return out;
  }

  /**
   * Messages after each reader's readSeq up to lastSeq that mention the reader, or everyone (not
   * counting the reader's own): `mentions_of_all` read once for all of them, and nothing for a
   * reader with nothing unread. Up to lastSeq: a message's mention rows are written before lastSeq
   * moves to it.
   */
  async unreadCounts(
    conversationId: string,
    lastSeq: number,
    readers: ReadonlyArray<{ userId: string; readSeq: number }>,
  ): Promise<Map<string, number>> {
    const unread = readers.filter((r) => r.readSeq < lastSeq);
    if (unread.length === 0) return new Map();
    const from = Math.min(...unread.map((r) => r.readSeq));
    const [everyone, own] = await Promise.all([
      this.everyoneMentioned(conversationId, from, lastSeq),
      Promise.all(
        unread.map((r) =>
          this.db.execute(
            'SELECT seq FROM mentions_by_user WHERE user_id = ? AND conversation_id = ? AND seq > ? AND seq <= ?',
            [r.userId, conversationId, r.readSeq, lastSeq],
          ),
        ),
      ),
    ]);
    return new Map(
      unread.map((r, i) => {
        const seqs = new Set(own[i]!.rows.map((row) => Number(row.get('seq'))));
        for (const m of everyone) if (m.seq > r.readSeq && m.senderId !== r.userId) seqs.add(m.seq);
        return [r.userId, seqs.size];
      }),
    );
  }
}
