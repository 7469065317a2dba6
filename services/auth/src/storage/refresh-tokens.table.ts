import { Inject, Injectable } from '@nestjs/common';
import type { CassandraClient } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';

export interface RefreshTokenRow {
  sessionId: string;
  expiresAt: Date;
  spentAt: Date | null;
}

@Injectable()
export class RefreshTokensTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  async insert(hash: string, sessionId: string, ttlSec: number): Promise<void> {
    const now = new Date();
    await this.db.execute(
      'INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at) VALUES (?, ?, ?, ?) USING TTL ?',
      [hash, sessionId, now, new Date(now.getTime() + ttlSec * 1000), ttlSec],
    );
  }

  async get(hash: string): Promise<RefreshTokenRow | undefined> {
    const row = (
      await this.db.execute(
        'SELECT session_id, expires_at, spent_at FROM refresh_tokens WHERE token_hash = ?',
        [hash],
      )
    ).first();
    return row
      ? { sessionId: row.get('session_id'), expiresAt: row.get('expires_at'), spentAt: row.get('spent_at') }
      : undefined;
  }

  /** Marks the token spent; false when it already was (another use got there first). */
  async spend(hash: string): Promise<boolean> {
    const rs = await this.db.execute(
      'UPDATE refresh_tokens SET spent_at = ? WHERE token_hash = ? IF spent_at = null',
      [new Date(), hash],
    );
    return rs.first().get('[applied]') as boolean;
  }
}
