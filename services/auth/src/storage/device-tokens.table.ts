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

  async userOf(tokenHash: string): Promise<string | undefined> {
    const row = (
      await this.db.execute('SELECT user_id FROM device_tokens WHERE token_hash = ?', [tokenHash])
    ).first();
    return row?.get('user_id') ?? undefined;
  }
}
