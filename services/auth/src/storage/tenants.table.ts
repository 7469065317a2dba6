import { Inject, Injectable } from '@nestjs/common';
import type { CassandraClient } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';

export type Registration = 'open' | 'invite';
export type MfaPolicy = 'off' | 'admins' | 'everyone';
export const MFA_POLICIES: readonly MfaPolicy[] = ['off', 'admins', 'everyone'];
export type GroupAdds = 'anyone' | 'consent';
export const GROUP_ADDS: readonly GroupAdds[] = ['anyone', 'consent'];

export interface TenantRow {
  id: string;
  name: string;
  /** Tenants from before invites read as open (they were). */
  registration: Registration;
  mfaPolicy: MfaPolicy;
  groupAdds: GroupAdds;
  /** People with a verified address at one of these may join (email invites). */
  emailDomains: string[];
}

const toRegistration = (v: unknown): Registration => (v === 'invite' ? 'invite' : 'open');
const toMfaPolicy = (v: unknown): MfaPolicy =>
  MFA_POLICIES.includes(v as MfaPolicy) ? (v as MfaPolicy) : 'off';
const toTenant = (row: { get(name: string): unknown }, name: string): TenantRow => ({
  name,
  id: row.get('id') as string,
  registration: toRegistration(row.get('registration')),
  mfaPolicy: toMfaPolicy(row.get('mfa_policy')),
  groupAdds: row.get('group_adds') === 'consent' ? 'consent' : 'anyone',
  emailDomains: [...((row.get('email_domains') as string[] | null) ?? [])].sort(),
});

@Injectable()
export class TenantsTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  async findByName(name: string): Promise<TenantRow | undefined> {
    const row = (
      await this.db.execute(
        'SELECT id, registration, mfa_policy, group_adds, email_domains FROM tenants WHERE name = ?',
        [name],
      )
    ).first();
    return row ? toTenant(row, name) : undefined;
  }

  async findById(id: string): Promise<TenantRow | undefined> {
    const row = (await this.db.execute('SELECT name FROM tenants_by_id WHERE id = ?', [id])).first();
    return row ? this.findByName(row.get('name') as string) : undefined;
  }

  /** Creates the tenant unless it exists; returns the stored one and whether it is new (race-safe). */
  async createIfAbsent(
    name: string,
    id: string,
    registration: Registration,
  ): Promise<{ tenant: TenantRow; created: boolean }> {
    const rs = await this.db.execute(
      'INSERT INTO tenants (name, id, created_at, registration) VALUES (?, ?, ?, ?) IF NOT EXISTS',
      [name, id, new Date(), registration],
    );
    const first = rs.first();
    if (first.get('[applied]') !== true) return { tenant: toTenant(first, name), created: false };
    await this.db.execute('INSERT INTO tenants_by_id (id, name) VALUES (?, ?)', [id, name]);
    return {
      tenant: { name, id, registration, mfaPolicy: 'off', groupAdds: 'anyone', emailDomains: [] },
      created: true,
    };
  }

  /** Indexes a tenant from before tenants_by_id existed (idempotent; done at login). */
  async indexId(t: TenantRow): Promise<void> {
    await this.db.execute('INSERT INTO tenants_by_id (id, name) VALUES (?, ?)', [t.id, t.name]);
  }

  async setGroupAdds(name: string, groupAdds: GroupAdds): Promise<void> {
    await this.db.execute('UPDATE tenants SET group_adds = ? WHERE name = ?', [groupAdds, name]);
  }

  async setEmailDomains(name: string, domains: readonly string[]): Promise<void> {
    await this.db.execute('UPDATE tenants SET email_domains = ? WHERE name = ?', [domains, name]);
  }

  async setMfaPolicy(name: string, policy: MfaPolicy): Promise<void> {
    await this.db.execute('UPDATE tenants SET mfa_policy = ? WHERE name = ?', [policy, name]);
  }

  async setRegistration(name: string, registration: Registration): Promise<void> {
    await this.db.execute('UPDATE tenants SET registration = ? WHERE name = ?', [registration, name]);
  }
}
