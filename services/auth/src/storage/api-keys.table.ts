import { Inject, Injectable } from '@nestjs/common';
import type { CassandraClient } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';

export interface ApiKeyRow {
  keyId: string;
  userId: string;
  tenantId: string;
  revokedAt?: Date | undefined;
}

/** api_keys by SHA-256 of the key, and api_keys_by_user to revoke a user's keys. */
@Injectable()
export class ApiKeysTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  async insert(hash: string, k: ApiKeyRow): Promise<void> {
    await this.db.batch(
      [
        {
          query:
            'INSERT INTO api_keys (key_hash, key_id, user_id, tenant_id, created_at) VALUES (?, ?, ?, ?, ?)',
          params: [hash, k.keyId, k.userId, k.tenantId, new Date()],
        },
        {
          query: 'INSERT INTO api_keys_by_user (user_id, key_id, key_hash) VALUES (?, ?, ?)',
          params: [k.userId, k.keyId, hash],
        },
      ],
      { prepare: true, logged: true },
    );
  }

  async byHash(hash: string): Promise<ApiKeyRow | undefined> {
    const row = (
      await this.db.execute(
        'SELECT key_id, user_id, tenant_id, revoked_at FROM api_keys WHERE key_hash = ?',
        [hash],
      )
    ).first();
    if (!row) return undefined;
    return {
      keyId: row.get('key_id'),
      userId: row.get('user_id'),
      tenantId: row.get('tenant_id'),
      revokedAt: row.get('revoked_at') ?? undefined,
    };
  }

  /** Marks every key of the user revoked; returns the ids of those that were live. */
  async revokeAllOf(userId: string): Promise<string[]> {
    const rs = await this.db.execute('SELECT key_id, key_hash FROM api_keys_by_user WHERE user_id = ?', [
      userId,
    ]);
    const live: string[] = [];
    for (const r of rs.rows) {
      const hash = r.get('key_hash') as string;
      const key = await this.byHash(hash);
      if (!key || key.revokedAt) continue;
      await this.db.execute('UPDATE api_keys SET revoked_at = ? WHERE key_hash = ?', [new Date(), hash]);
      live.push(r.get('key_id') as string);
    }
    return live;
  }
}
