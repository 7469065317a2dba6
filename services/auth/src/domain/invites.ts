import { Injectable } from '@nestjs/common';
import { AppError } from '@im/platform/errors';
import { InvitesTable, type InviteRow } from '../storage/invites.table.js';
import { TenantsTable } from '../storage/tenants.table.js';
import { UsersTable } from '../storage/users.table.js';
import { normalizeEmail } from './email-address.js';
import { hashInviteCode, isWellFormedInviteCode, newInviteCode } from './tokens.js';

const DEFAULT_TTL_SEC = 7 * 86_400;
const MAX_TTL_SEC = 30 * 86_400;
/** created_by of invites an operator made (the first admin's). */
export const OPERATOR = 'operator';
/** created_by of invites mailed to an address at one of the tenant's email domains. */
export const EMAIL_DOMAIN_RULE = 'email-domain';

export interface CheckedInvite extends InviteRow {
  hash: string;
}

/** Single-use, expiring invites into a tenant, as a member or an admin. */
@Injectable()
export class Invites {
  constructor(
    private readonly table: InvitesTable,
    private readonly users: UsersTable,
    private readonly tenants: TenantsTable,
  ) {}

  async create(
    tenantId: string,
    role: 'admin' | 'member',
    createdBy: string,
    ttlSeconds: number,
    email?: string,
  ): Promise<{ invite: string; expiresAt: Date }> {
    if (ttlSeconds < 0 || ttlSeconds > MAX_TTL_SEC)
      throw new AppError('invalid_argument', `ttlSeconds: 1-${MAX_TTL_SEC} (0 = 7 days)`);
    const expiresAt = new Date(Date.now() + (ttlSeconds || DEFAULT_TTL_SEC) * 1000);
    const { code, hash } = newInviteCode();
    await this.table.insert(hash, { tenantId, role, createdBy, expiresAt, email });
    return { invite: code, expiresAt };
  }

  /**
   * The invite if it can be used for this tenant now; refused otherwise (nothing is spent). An
   * admin's invite dies with their admin rights: a removed admin cannot come back through one; a
   * mailed invite dies with the domain rule that let it be sent.
   */
  async check(code: string, tenantId: string): Promise<CheckedInvite> {
    const hash = isWellFormedInviteCode(code) ? hashInviteCode(code) : undefined;
    const row = hash ? await this.table.usable(hash) : undefined;
    const refused = () =>
      new AppError('invalid_invite', 'the invite is unknown, expired, used, or of another tenant');
    if (!hash || !row || row.tenantId !== tenantId) throw refused();
    if (row.createdBy === EMAIL_DOMAIN_RULE) {
      const domains = (await this.tenants.findById(tenantId))?.emailDomains ?? [];
      if (!row.email || !domains.includes(normalizeEmail(row.email).domain)) throw refused();
    } else if (row.createdBy !== OPERATOR) {
      const creator = await this.users.get(row.createdBy);
      if (!creator || creator.tenantId !== tenantId || creator.role !== 'admin' || creator.disabledAt)
        throw refused();
    }
    return { ...row, hash };
  }

  /** An invite that never reached its person (the mail failed) stops working. */
  withdraw(code: string): Promise<void> {
    return this.table.delete(hashInviteCode(code));
  }

  spend(invite: CheckedInvite, userId: string): Promise<boolean> {
    return this.table.spend(invite.hash, invite.tenantId, userId, invite.expiresAt);
  }

  unspend(invite: CheckedInvite, userId: string): Promise<void> {
    return this.table.unspend(invite.hash, userId);
  }
}
