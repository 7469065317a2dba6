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
  /** In the tenant: "admin" or "member". */
  role: 'admin' | 'member';
  /** "bot": calls the API with keys, never logs in. */
  kind?: 'user' | 'bot' | undefined;
  disabledAt?: Date | undefined;
  removedAt?: Date | undefined;
  /** The address a mailed invite proved (joined by email), lower-cased. */
  email?: string | undefined;
}

const COLUMNS =
  'user_id, tenant_id, username, display_name, password_hash, created_at, role, disabled_at, removed_at, kind, email';

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

  /** Gives a claimed username back (the registration failed after the claim). */
  async releaseUsername(tenantId: string, username: string, userId: string): Promise<void> {
    await this.db.execute(
      'DELETE FROM users_by_username WHERE tenant_id = ? AND username = ? IF user_id = ?',
      [tenantId, username, userId],
    );
  }

  /** Claims the address in the tenant (one account per address); false when someone holds it. */
  async claimEmail(tenantId: string, email: string, userId: string): Promise<boolean> {
    const rs = await this.db.execute(
      'INSERT INTO users_by_email (tenant_id, email, user_id) VALUES (?, ?, ?) IF NOT EXISTS',
      [tenantId, email, userId],
    );
    return rs.first().get('[applied]') as boolean;
  }

  async releaseEmail(tenantId: string, email: string, userId: string): Promise<void> {
    await this.db.execute('DELETE FROM users_by_email WHERE tenant_id = ? AND email = ? IF user_id = ?', [
      tenantId,
      email,
      userId,
    ]);
  }

  /** Indexes a user from before users_by_tenant existed (idempotent; done at login). */
  async indexInTenant(tenantId: string, userId: string): Promise<void> {
    await this.db.execute('INSERT INTO users_by_tenant (tenant_id, user_id) VALUES (?, ?)', [
      tenantId,
      userId,
    ]);
  }

  async insert(user: UserRow): Promise<void> {
    await Promise.all([
      this.db.execute(
        'INSERT INTO users (user_id, tenant_id, username, display_name, password_hash, created_at, role, kind, email) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [
          user.userId,
          user.tenantId,
          user.username,
          user.displayName,
          user.passwordHash,
          user.createdAt,
          user.role,
          user.kind ?? 'user',
          user.email,
        ],
      ),
      this.db.execute('INSERT INTO users_by_tenant (tenant_id, user_id) VALUES (?, ?)', [
        user.tenantId,
        user.userId,
      ]),
    ]);
  }

  async setRole(userId: string, role: 'admin' | 'member'): Promise<void> {
    await this.db.execute('UPDATE users SET role = ? WHERE user_id = ?', [role, userId]);
  }

  async setDisabled(userId: string, at: Date | null): Promise<void> {
    await this.db.execute('UPDATE users SET disabled_at = ? WHERE user_id = ?', [at, userId]);
  }

  async setRemoved(userId: string, at: Date): Promise<void> {
    await this.db.execute('UPDATE users SET removed_at = ?, disabled_at = ? WHERE user_id = ?', [
      at,
      at,
      userId,
    ]);
  }

  /** A page of the tenant's user ids after `afterUserId` ('' from the start). */
  async idsOfTenant(tenantId: string, afterUserId: string, limit: number): Promise<string[]> {
    const rs = await this.db.execute(
      'SELECT user_id FROM users_by_tenant WHERE tenant_id = ? AND user_id > ? LIMIT ?',
      [tenantId, afterUserId, limit],
    );
    return rs.rows.map((r) => r.get('user_id') as string);
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
    const row = (await this.db.execute(`SELECT ${COLUMNS} FROM users WHERE user_id = ?`, [userId])).first();
    if (!row) return undefined;
    return {
      userId: row.get('user_id'),
      tenantId: row.get('tenant_id'),
      username: row.get('username'),
      displayName: row.get('display_name'),
      passwordHash: row.get('password_hash'),
      createdAt: row.get('created_at'),
      role: row.get('role') === 'admin' ? 'admin' : 'member',
      disabledAt: row.get('disabled_at') ?? undefined,
      removedAt: row.get('removed_at') ?? undefined,
      kind: row.get('kind') === 'bot' ? 'bot' : 'user',
      email: row.get('email') ?? undefined,
    };
  }

  async getMany(userIds: readonly string[]): Promise<UserRow[]> {
    const rows = await Promise.all([...new Set(userIds)].map((id) => this.get(id)));
    return rows.filter((r): r is UserRow => r !== undefined);
  }
}
