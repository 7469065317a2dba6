import { Inject, Injectable } from '@nestjs/common';
import type { CassandraClient, Statement } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';
import { monotonicTimestamp } from './monotonic-timestamp.js';

export interface PinRow {
  seq: number;
  pinnedBy: string;
  pinnedAt: Date;
}

/** pins ((conversation_id), seq): a conversation's pinned messages, written at the update's version. */
@Injectable()
export class PinsTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  async list(conversationId: string): Promise<PinRow[]> {
    const rs = await this.db.execute('SELECT seq, pinned_by, pinned_at FROM pins WHERE conversation_id = ?', [
      conversationId,
    ]);
    return rs.rows.map((r) => ({
      seq: Number(r.get('seq')),
      pinnedBy: r.get('pinned_by') as string,
      pinnedAt: r.get('pinned_at') as Date,
    }));
  }

  async count(conversationId: string): Promise<number> {
    const row = (
      await this.db.execute('SELECT COUNT(*) AS n FROM pins WHERE conversation_id = ?', [conversationId])
    ).first();
    return Number(row?.get('n') ?? 0);
  }

  pinStatement(
    conversationId: string,
    seq: number,
    pinnedBy: string,
    pinnedAt: Date,
    version: number,
  ): Statement {
    return {
      query:
        'INSERT INTO pins (conversation_id, seq, pinned_by, pinned_at) VALUES (?, ?, ?, ?) USING TIMESTAMP ?',
      params: [conversationId, seq, pinnedBy, pinnedAt, monotonicTimestamp(version)],
    };
  }

  unpinStatement(conversationId: string, seq: number, version: number): Statement {
    return {
      query: 'DELETE FROM pins USING TIMESTAMP ? WHERE conversation_id = ? AND seq = ?',
      params: [monotonicTimestamp(version), conversationId, seq],
    };
  }
}
