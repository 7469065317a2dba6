import { Inject, Injectable } from '@nestjs/common';
import type { CassandraClient } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';

export interface ChallengeRow {
  userId: string;
  expiresAt: Date;
  attempts: number;
  used: boolean;
}

const applied = (rs: { first(): { get(name: string): unknown } }) => rs.first().get('[applied]') === true;

/** The second step of a login, by the SHA-256 of its token. */
@Injectable()
export class MfaChallengesTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  async create(tokenHash: string, userId: string, ttlSec: number): Promise<void> {
    await this.db.execute(
      'INSERT INTO mfa_challenges (token_hash, user_id, expires_at, attempts, used) VALUES (?, ?, ?, 0, false)',
      [tokenHash, userId, new Date(Date.now() + ttlSec * 1000)],
    );
  }

  async get(tokenHash: string): Promise<ChallengeRow | undefined> {
    const row = (
      await this.db.execute(
        'SELECT user_id, expires_at, attempts, used FROM mfa_challenges WHERE token_hash = ?',
        [tokenHash],
      )
    ).first();
    // cells of later updates can outlive the row's first write: a row without them is gone
    return row?.get('user_id') && row.get('expires_at')
      ? {
          userId: row.get('user_id'),
          expiresAt: row.get('expires_at'),
          attempts: row.get('attempts') ?? 0,
          used: row.get('used') === true,
        }
      : undefined;
  }

  /** Takes the next attempt (compare-and-set: parallel guesses cannot share one). */
  async takeAttempt(tokenHash: string, seen: number): Promise<boolean> {
    return applied(
      await this.db.execute(
        'UPDATE mfa_challenges SET attempts = ? WHERE token_hash = ? IF attempts = ? AND used = false',
        [seen + 1, tokenHash, seen],
      ),
    );
  }

  /** Once: two right codes sent together start one session, not two. */
  async use(tokenHash: string): Promise<boolean> {
    return applied(
      await this.db.execute('UPDATE mfa_challenges SET used = true WHERE token_hash = ? IF used = false', [
        tokenHash,
      ]),
    );
  }
}
