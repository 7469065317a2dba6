import { Inject, Injectable } from '@nestjs/common';
import type { CassandraClient } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';

export interface TenantRow {
  id: string;
  name: string;
}

@Injectable()
export class TenantsTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  async findByName(name: string): Promise<TenantRow | undefined> {
    const row = (await this.db.execute('SELECT name, id FROM tenants WHERE name = ?', [name])).first();
    return row ? { name: row.get('name'), id: row.get('id') } : undefined;
  }

  /** Creates the tenant unless it exists; returns the stored one either way (race-safe). */
  async createIfAbsent(name: string, id: string): Promise<TenantRow> {
    const rs = await this.db.execute(
      'INSERT INTO tenants (name, id, created_at) VALUES (?, ?, ?) IF NOT EXISTS',
      [name, id, new Date()],
    );
    const applied = rs.first().get('[applied]') as boolean;
    return applied ? { name, id } : { name, id: rs.first().get('id') };
  }
}
