import { Inject, Injectable } from '@nestjs/common';
import type { CassandraClient, Statement } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';
import { bucketOf } from '../domain/bucketing.js';

/** message_changes ((conversation_id, bucket), version): which message each update changed. */
@Injectable()
export class MessageChangesTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  insertStatement(conversationId: string, version: number, seq: number): Statement {
    return {
      query: 'INSERT INTO message_changes (conversation_id, bucket, version, seq) VALUES (?, ?, ?, ?)',
      params: [conversationId, bucketOf(version), version, seq],
    };
  }

  /** The newest version logged above `version`, or `version` when there is none. */
  async latestFrom(conversationId: string, version: number): Promise<number> {
    let latest = version;
    for (let b = bucketOf(version + 1); ; b++) {
      const row = (
        await this.db.execute(
          'SELECT version FROM message_changes WHERE conversation_id = ? AND bucket = ? AND version > ? ORDER BY version DESC LIMIT 1',
          [conversationId, b, latest],
        )
      ).first();
      if (!row) return latest;
      latest = Number(row.get('version'));
    }
  }

  /** Up to `limit` changes with afterVersion < version <= upToVersion, oldest first. */
  async after(
    conversationId: string,
    afterVersion: number,
    upToVersion: number,
    limit: number,
  ): Promise<Array<{ version: number; seq: number }>> {
    const out: Array<{ version: number; seq: number }> = [];
    for (let b = bucketOf(afterVersion + 1); b <= bucketOf(upToVersion) && out.length < limit; b++) {
      const rs = await this.db.execute(
        'SELECT version, seq FROM message_changes WHERE conversation_id = ? AND bucket = ? AND version > ? AND version <= ? LIMIT ?',
        [conversationId, b, afterVersion, upToVersion, limit - out.length],
      );
      for (const row of rs.rows)
        out.push({ version: Number(row.get('version')), seq: Number(row.get('seq')) });
    }
    return out;
  }
}
