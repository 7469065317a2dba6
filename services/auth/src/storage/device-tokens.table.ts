import { Inject, Injectable } from '@nestjs/common';
import type { CassandraClient } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';

/** Devices users logged in from, by SHA-256 of the device token (migration 0012). */
@Injectable()
export class DeviceTokensTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  async insert(tokenHash: string, userId: string, ttlSec: number): Promise<void> {
    await this.db.execute('INSERT INTO device_tokens (token_hash, user_id) VALUES (?, ?) USING TTL ?', [
      tokenHash,
      userId,
      ttlSec,
    ]);
  }

  /** Spends the user's token (single use, race-safe); false when it is not theirs or already spent. */
  async spend(tokenHash: string, userId: string): Promise<boolean> {
    const rs = await this.db.execute('DELETE FROM device_tokens WHERE token_hash = ? IF user_id = ?', [
      tokenHash,
      userId,
    ]);
    return rs.first().get('[applied]') === true;
  }
}
