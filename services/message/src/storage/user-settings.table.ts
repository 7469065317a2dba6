import { Inject, Injectable } from '@nestjs/common';
import type { CassandraClient } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';

export interface UserSettings {
  readReceipts: boolean;
}

export const DEFAULT_USER_SETTINGS: UserSettings = { readReceipts: true };

/** user_settings (user_id): messaging privacy settings. */
@Injectable()
export class UserSettingsTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  async get(userId: string): Promise<UserSettings> {
    const row = (
      await this.db.execute('SELECT read_receipts FROM user_settings WHERE user_id = ?', [userId])
    ).first();
    const readReceipts = row?.get('read_receipts') as boolean | null | undefined;
    return { readReceipts: readReceipts ?? DEFAULT_USER_SETTINGS.readReceipts };
  }

  async put(userId: string, settings: UserSettings): Promise<void> {
    await this.db.execute('INSERT INTO user_settings (user_id, read_receipts) VALUES (?, ?)', [
      userId,
      settings.readReceipts,
    ]);
  }
}
