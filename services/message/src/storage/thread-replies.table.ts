import { Inject, Injectable } from '@nestjs/common';
import type { CassandraClient, Statement } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';

/** thread_replies ((conversation_id, root_seq), seq): the replies of each root, for the thread view. */
@Injectable()
export class ThreadRepliesTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  insertStatement(conversationId: string, rootSeq: number, seq: number): Statement {
    return {
      query: 'INSERT INTO thread_replies (conversation_id, root_seq, seq) VALUES (?, ?, ?)',
      params: [conversationId, rootSeq, seq],
    };
  }

  async insert(conversationId: string, rootSeq: number, seq: number): Promise<void> {
    const s = this.insertStatement(conversationId, rootSeq, seq);
    await this.db.execute(s.query, s.params);
  }

  /** Up to `limit` reply seqs of a root with afterSeq < seq <= upToSeq, oldest first. */
  async after(
    conversationId: string,
    rootSeq: number,
    afterSeq: number,
    upToSeq: number,
    limit: number,
  ): Promise<number[]> {
    const rs = await this.db.execute(
      'SELECT seq FROM thread_replies WHERE conversation_id = ? AND root_seq = ? AND seq > ? AND seq <= ? LIMIT ?',
      [conversationId, rootSeq, afterSeq, upToSeq, limit],
    );
    return rs.rows.map((r) => Number(r.get('seq')));
  }
}
