import { Inject, Injectable } from '@nestjs/common';
import { allRows, type CassandraClient } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';
import type { SessionRevoked } from '@im/proto/events/v1';

/** The revocation outbox (migration 0005): revocations not yet in the gateways' KV bucket. */
@Injectable()
export class RevocationsPendingTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  async add(rev: SessionRevoked, ttlSec: number): Promise<void> {
    await this.db.execute(
      'INSERT INTO revocations_pending (shard, session_id, user_id, expires_at, reason) VALUES (0, ?, ?, ?, ?) USING TTL ?',
      [rev.sessionId, rev.userId, rev.expiresAt ? new Date(rev.expiresAt) : null, rev.reason, ttlSec],
    );
  }

  async remove(sessionId: string): Promise<void> {
    await this.db.execute('DELETE FROM revocations_pending WHERE shard = 0 AND session_id = ?', [sessionId]);
  }

  async list(): Promise<SessionRevoked[]> {
    const out: SessionRevoked[] = [];
    for await (const r of allRows(
      this.db,
      'SELECT session_id, user_id, expires_at, reason FROM revocations_pending WHERE shard = 0',
      [],
    ))
      out.push({
        sessionId: r.get('session_id') as string,
        userId: r.get('user_id') as string,
        expiresAt: (r.get('expires_at') as Date | null)?.toISOString(),
        reason: r.get('reason') as string,
      });
    return out;
  }
}
