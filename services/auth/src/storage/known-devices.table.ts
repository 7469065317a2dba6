import { Inject, Injectable } from '@nestjs/common';
import type { CassandraClient } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';

/** Devices users logged in from, by user and SHA-256 of the device token (migration 0013). */
@Injectable()
export class KnownDevicesTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  async insert(tokenHash: string, userId: string, ttlSec: number): Promise<void> {
    await this.db.execute('INSERT INTO known_devices (user_id, token_hash) VALUES (?, ?) USING TTL ?', [
      userId,
      tokenHash,
      ttlSec,
    ]);
  }

  /** Spends the user's token (single use, race-safe); false when it is not theirs or already spent. */
  async spend(tokenHash: string, userId: string): Promise<boolean> {
    const rs = await this.db.execute(
      'DELETE FROM known_devices WHERE user_id = ? AND token_hash = ? IF EXISTS',
      [userId, tokenHash],
    );
    return rs.first().get('[applied]') === true;
  }

  /** Every token of the user, gone (one partition). */
  async removeAll(userId: string): Promise<void> {
    await this.db.execute('DELETE FROM known_devices WHERE user_id = ?', [userId]);
  }
}
