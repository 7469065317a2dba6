import { Inject, Injectable } from '@nestjs/common';
import type { CassandraClient } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';

export interface RefreshTokenRow {
  sessionId: string;
  expiresAt: Date;
  spentAt: Date | null;
  /** The token that replaced this one when it was spent. */
  replacedBy: string | null;
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
        'SELECT session_id, expires_at, spent_at, replaced_by FROM refresh_tokens WHERE token_hash = ?',
        [hash],
      )
    ).first();
    // a row without its token (only a stray spent_at left after the TTL) is no token at all
    if (!row || !row.get('session_id') || !row.get('expires_at')) return undefined;
    return {
      sessionId: row.get('session_id'),
      expiresAt: row.get('expires_at'),
      spentAt: row.get('spent_at'),
      replacedBy: row.get('replaced_by'),
    };
  }

  /**
   * Marks the token spent; false when it already was (another use got there first). The mark
   * expires with the token: without a TTL of its own it would outlive the row it belongs to.
   */
  async spend(hash: string, expiresAt: Date, replacedBy: string | null): Promise<boolean> {
    const ttlSec = Math.max(1, Math.ceil((expiresAt.getTime() - Date.now()) / 1000));
    const rs = await this.db.execute(
      'UPDATE refresh_tokens USING TTL ? SET spent_at = ?, replaced_by = ? WHERE token_hash = ? IF spent_at = null',
      [ttlSec, new Date(), replacedBy, hash],
    );
    return rs.first().get('[applied]') as boolean;
  }
}
