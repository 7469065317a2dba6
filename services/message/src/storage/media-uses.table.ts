import { Inject, Injectable } from '@nestjs/common';
import type { CassandraClient, Statement } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';
import { monotonicTimestamp } from './monotonic-timestamp.js';

/** media_uses ((media_id), conversation_id, seq): the messages a media was sent in. */
@Injectable()
export class MediaUsesTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  statements(conversationId: string, seq: number, mediaIds: readonly string[]): Statement[] {
    return mediaIds.map((mediaId) => ({
      query: 'INSERT INTO media_uses (media_id, conversation_id, seq) VALUES (?, ?, ?)',
      params: [mediaId, conversationId, seq],
    }));
  }

  async insert(conversationId: string, seq: number, mediaIds: readonly string[]): Promise<void> {
    await Promise.all(
      this.statements(conversationId, seq, mediaIds).map((s) => this.db.execute(s.query, s.params)),
    );
  }

  /** At the delete's version: above any insert's timestamp, so a late insert never brings it back. */
  removeStatements(
    conversationId: string,
    seq: number,
    mediaIds: readonly string[],
    version: number,
  ): Statement[] {
    return mediaIds.map((mediaId) => ({
      query:
        'DELETE FROM media_uses USING TIMESTAMP ? WHERE media_id = ? AND conversation_id = ? AND seq = ?',
      params: [monotonicTimestamp(version), mediaId, conversationId, seq],
    }));
  }

  /** The conversations a media was sent in (a bounded number: one per message that carries it). */
  async conversationsOf(mediaId: string, limit = 1_000): Promise<string[]> {
    const rs = await this.db.execute('SELECT conversation_id FROM media_uses WHERE media_id = ? LIMIT ?', [
      mediaId,
      limit,
    ]);
    return [...new Set(rs.rows.map((r) => r.get('conversation_id') as string))];
  }
}
