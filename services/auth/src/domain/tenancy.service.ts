import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@im/platform/errors';
import { uuidv7 } from '@im/platform/ids';
import type { Logger } from '@im/platform/logging';
import { CONFIG, LOGGER } from '@im/platform/nest';
import type { Tenant, TenantUser } from '@im/proto/auth/v1';
import type { Caller } from '@im/proto/common/v1';
import type { AuthConfig } from '../config.js';
import {
  GROUP_ADDS,
  MFA_POLICIES,
  TenantsTable,
  type GroupAdds,
  type MfaPolicy,
  type Registration,
  type TenantRow,
} from '../storage/tenants.table.js';
import { UsersTable, type UserRow } from '../storage/users.table.js';
import { AuthService, toUser } from './auth.service.js';
import { normalizeTenant } from './credentials.js';
import { normalizeEmailDomains } from './email-address.js';
import { Invites, OPERATOR } from './invites.js';
import { MfaService } from './mfa.service.js';

const PAGE_MAX = 500;
const TENANT_NAME = /^[a-z0-9][a-z0-9-]{1,39}$/;
const REGISTRATIONS: readonly Registration[] = ['open', 'invite'];

/**
 * The tenant boundary: operators create tenants (with a first-admin invite); tenant admins invite
 * people, list users, disable or remove them (every session revoked) and choose whether anyone may
 * register.
 */
@Injectable()
export class TenancyService {
  constructor(
    @Inject(CONFIG) private readonly config: AuthConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly tenants: TenantsTable,
    private readonly users: UsersTable,
    private readonly invites: Invites,
    private readonly auth: AuthService,
    private readonly mfa: MfaService,
  ) {}

  async createTenant(operatorToken: string, name: string, registration: string, inviteTtl: number) {
    this.requireOperator(operatorToken);
    const tenantName = normalizeTenant(name, '');
    if (!TENANT_NAME.test(tenantName))
      throw new AppError('invalid_argument', 'name: 2-40 of a-z 0-9 -, starting with a letter or digit');
    const mode = this.registration(registration || 'invite');
    const made = await this.tenants.createIfAbsent(tenantName, uuidv7(), mode);
    if (!made.created) throw new AppError('conflict', `tenant "${tenantName}" exists`);
    const invite = await this.invites.create(made.tenant.id, 'admin', OPERATOR, inviteTtl);
    this.logger.info({ tenantId: made.tenant.id, tenant: tenantName }, 'tenant created by an operator');
    return {
      tenant: view(made.tenant),
      adminInvite: invite.invite,
      inviteExpiresAt: invite.expiresAt.toISOString(),
    };
  }

  /** An admin's invite into their tenant; or an operator's into any tenant (operatorToken + tenant). */
  async createInvite(
    caller: Caller | undefined,
    role: string,
    ttlSeconds: number,
    operator?: { token: string; tenant: string },
  ) {
    const asRole = role === 'admin' ? 'admin' : role === '' || role === 'member' ? 'member' : undefined;
    if (!asRole) throw new AppError('invalid_argument', 'role: member or admin');
    let tenantId: string;
    let by: string;
    if (operator) {
      this.requireOperator(operator.token);
      const tenant = await this.tenants.findByName(normalizeTenant(operator.tenant, ''));
      if (!tenant) throw new AppError('not_found', 'no such tenant');
      tenantId = tenant.id;
      by = OPERATOR;
    } else {
      const admin = await this.requireAdmin(caller);
      tenantId = admin.tenantId;
      by = admin.userId;
    }
    const invite = await this.invites.create(tenantId, asRole, by, ttlSeconds);
    return { invite: invite.invite, expiresAt: invite.expiresAt.toISOString() };
  }

  async listUsers(caller: Caller | undefined, cursor: string, limit: number) {
    const admin = await this.requireAdmin(caller);
    if (limit < 0 || limit > PAGE_MAX) throw new AppError('invalid_argument', `limit: 1-${PAGE_MAX}`);
    if (cursor && !/^[0-9a-f-]{36}$/.test(cursor))
      throw new AppError('invalid_argument', 'cursor: not a cursor');
    const size = limit || 100;
    const ids = await this.users.idsOfTenant(admin.tenantId, cursor, size);
    const rows = (await this.users.getMany(ids))
      .filter((u) => !u.removedAt)
      .sort((a, b) => (a.userId < b.userId ? -1 : 1));
    const mfaOn = await Promise.all(rows.map((u) => this.mfa.isOn(u.userId)));
    return {
      users: rows.map((u, i) => tenantUser(u, mfaOn[i]!)),
      nextCursor: ids.length === size ? ids[ids.length - 1]! : '',
    };
  }

  async updateUser(
    caller: Caller | undefined,
    userId: string,
    change: { disabled?: boolean | undefined; role?: string | undefined; remove: boolean; resetMfa: boolean },
  ) {
    const admin = await this.requireAdmin(caller);
    const user = await this.users.get(userId);
    if (!user || user.tenantId !== admin.tenantId || user.removedAt)
      throw new AppError('not_found', 'no such user');
    if (
      userId === admin.userId &&
      (change.remove || change.disabled || change.role === 'member' || change.resetMfa)
    )
      throw new AppError(
        'forbidden',
        'admins cannot disable, remove, demote themselves or reset their own second factor',
      );
    // an API key speaks for a bot: as an admin it would be an admin credential without a second factor
    if (change.role === 'admin' && user.kind === 'bot')
      throw new AppError('invalid_argument', 'bots cannot be tenant admins');
    if (change.role !== undefined && change.role !== 'admin' && change.role !== 'member')
      throw new AppError('invalid_argument', 'role: member or admin');
    if (change.role) await this.users.setRole(userId, change.role as 'admin' | 'member');
    if (change.resetMfa) await this.mfa.reset(userId);
    if (change.remove) {
      await this.users.setRemoved(userId, new Date());
      await this.auth.revokeAll(userId, 'admin');
    } else if (change.disabled !== undefined) {
      await this.users.setDisabled(userId, change.disabled ? new Date() : null);
      if (change.disabled) await this.auth.revokeAll(userId, 'admin');
    }
    this.logger.info({ by: admin.userId, userId, ...change }, 'tenant user changed by an admin');
    return { user: tenantUser((await this.users.get(userId))!, await this.mfa.isOn(userId)) };
  }

  async updateTenant(
    caller: Caller | undefined,
    change: {
      registration?: string | undefined;
      mfaPolicy?: string | undefined;
      groupAdds?: string | undefined;
      emailDomains?: readonly string[] | undefined;
    },
  ) {
    const admin = await this.requireAdmin(caller);
    const tenant = await this.tenants.findById(admin.tenantId);
    if (!tenant) throw new AppError('not_found', 'no such tenant');
    const registration =
      change.registration === undefined ? undefined : this.registration(change.registration);
    if (change.mfaPolicy !== undefined && !MFA_POLICIES.includes(change.mfaPolicy as MfaPolicy))
      throw new AppError('invalid_argument', 'mfaPolicy: off, admins or everyone');
    if (change.groupAdds !== undefined && !GROUP_ADDS.includes(change.groupAdds as GroupAdds))
      throw new AppError('invalid_argument', 'groupAdds: anyone or consent');
    const emailDomains = change.emailDomains && normalizeEmailDomains(change.emailDomains);
    if (emailDomains) await this.tenants.setEmailDomains(tenant.name, emailDomains);
    if (change.groupAdds !== undefined)
      await this.tenants.setGroupAdds(tenant.name, change.groupAdds as GroupAdds);
    if (registration) await this.tenants.setRegistration(tenant.name, registration);
    if (change.mfaPolicy !== undefined)
      await this.tenants.setMfaPolicy(tenant.name, change.mfaPolicy as MfaPolicy);
    return { tenant: view((await this.tenants.findByName(tenant.name))!) };
  }

  /** What other services act on; an unknown tenant reads as the defaults. */
  async settings(tenantId: string): Promise<{ groupAdds: GroupAdds }> {
    return { groupAdds: (await this.tenants.findById(tenantId))?.groupAdds ?? 'anyone' };
  }

  async callerRole(caller: Caller | undefined): Promise<string> {
    if (!caller?.userId) return '';
    const user = await this.users.get(caller.userId);
    if (!user || user.tenantId !== caller.tenantId || user.disabledAt) return '';
    return user.role;
  }

  private registration(value: string): Registration {
    if (!REGISTRATIONS.includes(value as Registration))
      throw new AppError('invalid_argument', 'registration: open or invite');
    return value as Registration;
  }

  /** Platform operators only (AUTH_OPERATOR_TOKEN): tenants, invites into any tenant, key rotation. */
  requireOperator(token: string): void {
    const expected = this.config.AUTH_OPERATOR_TOKEN;
    const digest = (v: string) => createHash('sha256').update(v).digest();
    const ok = expected !== undefined && timingSafeEqual(digest(token), digest(expected));
    if (!ok) throw new AppError('forbidden', 'an operator credential is needed');
  }

  async requireAdmin(caller: Caller | undefined): Promise<UserRow> {
    if (!caller?.userId) throw new AppError('unauthenticated', 'a caller is needed');
    const user = await this.users.get(caller.userId);
    if (!user || user.tenantId !== caller.tenantId || user.disabledAt || user.role !== 'admin')
      throw new AppError('forbidden', 'tenant admins only');
    return user;
  }
}

function view(t: TenantRow): Tenant {
  return {
    id: t.id,
    name: t.name,
    registration: t.registration,
    mfaPolicy: t.mfaPolicy,
    groupAdds: t.groupAdds,
    emailDomains: t.emailDomains,
  };
}

function tenantUser(u: UserRow, mfa: boolean): TenantUser {
  return {
    user: toUser(u),
    role: u.role,
    disabled: u.disabledAt !== undefined,
    mfa,
    email: u.email ?? '',
  };
}
