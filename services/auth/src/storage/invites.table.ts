import { Inject, Injectable } from '@nestjs/common';
import type { CassandraClient } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';

export interface InviteRow {
  tenantId: string;
  role: 'admin' | 'member';
  createdBy: string;
  expiresAt: Date;
  /** A mailed invite: the address it was sent to, which registering with it proves. */
  email?: string | undefined;
}

/** invites by SHA-256 of the code; spent once by a conditional update. */
@Injectable()
export class InvitesTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  async insert(codeHash: string, invite: InviteRow): Promise<void> {
    const ttl = Math.max(1, Math.ceil((invite.expiresAt.getTime() - Date.now()) / 1000));
    await this.db.execute(
      'INSERT INTO invites (code_hash, tenant_id, role, created_by, expires_at, email) VALUES (?, ?, ?, ?, ?, ?) USING TTL ?',
      [codeHash, invite.tenantId, invite.role, invite.createdBy, invite.expiresAt, invite.email, ttl],
    );
  }

  /** The invite while it can be used: known, not expired, not spent. */
  async usable(codeHash: string): Promise<InviteRow | undefined> {
    const row = (
      await this.db.execute(
        'SELECT tenant_id, role, created_by, expires_at, used_by, email FROM invites WHERE code_hash = ?',
        [codeHash],
      )
    ).first();
    const expiresAt = row?.get('expires_at') as Date | null | undefined;
    if (!row || !expiresAt || row.get('used_by') || expiresAt.getTime() <= Date.now()) return undefined;
    return {
      tenantId: row.get('tenant_id'),
      role: row.get('role') === 'admin' ? 'admin' : 'member',
      createdBy: row.get('created_by'),
      expiresAt,
      email: row.get('email') ?? undefined,
    };
  }

  /** Spends it for the user; false when someone spent it first. */
  async spend(codeHash: string, tenantId: string, userId: string, expiresAt: Date): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil((expiresAt.getTime() - Date.now()) / 1000));
    // on tenant_id too: an expired (vanished) row has none, so it cannot be spent into a ghost
    const rs = await this.db.execute(
      'UPDATE invites USING TTL ? SET used_by = ?, used_at = ? WHERE code_hash = ? IF tenant_id = ? AND used_by = null',
      [ttl, userId, new Date(), codeHash, tenantId],
    );
    return rs.first().get('[applied]') === true;
  }

  /** Withdraws an invite that never reached its person (the mail failed); conditional, as a spend is. */
  async delete(codeHash: string): Promise<void> {
    await this.db.execute('DELETE FROM invites WHERE code_hash = ? IF EXISTS', [codeHash]);
  }

  /** Gives the invite back (the registration failed after spending it). */
  async unspend(codeHash: string, userId: string): Promise<void> {
    await this.db.execute(
      'UPDATE invites SET used_by = null, used_at = null WHERE code_hash = ? IF used_by = ?',
      [codeHash, userId],
    );
  }
}
