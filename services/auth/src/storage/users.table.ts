import { Inject, Injectable } from '@nestjs/common';
import type { CassandraClient } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';

export interface UserRow {
  userId: string;
  tenantId: string;
  username: string;
  displayName: string;
  passwordHash: string;
  createdAt: Date;
}

@Injectable()
export class UsersTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  /** Claims the username in the tenant; false when someone already holds it. */
  async claimUsername(tenantId: string, username: string, userId: string): Promise<boolean> {
    const rs = await this.db.execute(
      'INSERT INTO users_by_username (tenant_id, username, user_id) VALUES (?, ?, ?) IF NOT EXISTS',
      [tenantId, username, userId],
    );
    return rs.first().get('[applied]') as boolean;
  }

  async insert(user: UserRow): Promise<void> {
    await this.db.execute(
      'INSERT INTO users (user_id, tenant_id, username, display_name, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      [user.userId, user.tenantId, user.username, user.displayName, user.passwordHash, user.createdAt],
    );
  }

  async findIdByUsername(tenantId: string, username: string): Promise<string | undefined> {
    const row = (
      await this.db.execute('SELECT user_id FROM users_by_username WHERE tenant_id = ? AND username = ?', [
        tenantId,
        username,
      ])
    ).first();
    return row?.get('user_id');
  }

  async get(userId: string): Promise<UserRow | undefined> {
    const row = (
      await this.db.execute(
        'SELECT user_id, tenant_id, username, display_name, password_hash, created_at FROM users WHERE user_id = ?',
        [userId],
      )
    ).first();
    if (!row) return undefined;
    return {
      userId: row.get('user_id'),
      tenantId: row.get('tenant_id'),
      username: row.get('username'),
      displayName: row.get('display_name'),
      passwordHash: row.get('password_hash'),
      createdAt: row.get('created_at'),
    };
  }

  async getMany(userIds: readonly string[]): Promise<UserRow[]> {
    const rows = await Promise.all([...new Set(userIds)].map((id) => this.get(id)));
    return rows.filter((r): r is UserRow => r !== undefined);
  }
}
