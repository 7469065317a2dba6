import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@im/platform/errors';
import type { Logger } from '@im/platform/logging';
import { CONFIG, LOGGER } from '@im/platform/nest';
import type { AuthConfig } from '../config.js';
import { Mailer } from '../mail/mailer.js';
import { EmailSendsTable } from '../storage/email-sends.table.js';
import { TenantsTable } from '../storage/tenants.table.js';
import { clientKey } from './client-address.js';
import { normalizeTenant } from './credentials.js';
import { normalizeEmail } from './email-address.js';
import { EMAIL_DOMAIN_RULE, Invites } from './invites.js';
import { RegistrationLimiter } from './registration-limiter.js';

/**
 * Joining a tenant by email: an address at one of the tenant's email domains is mailed a
 * single-use member invite; registering with it proves the address (ADR 0029).
 */
@Injectable()
export class EmailInvites {
  constructor(
    @Inject(CONFIG) private readonly config: AuthConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly tenants: TenantsTable,
    private readonly invites: Invites,
    private readonly sends: EmailSendsTable,
    private readonly registrations: RegistrationLimiter,
    private readonly mailer: Mailer,
  ) {}

  async request(req: { tenant: string; email: string; client?: { ip: string } | undefined }) {
    const { address, domain } = normalizeEmail(req.email);
    const name = normalizeTenant(req.tenant, this.config.DEFAULT_TENANT);
    if (!this.mailer.configured)
      throw new AppError('unavailable', 'this server sends no mail, so nobody joins by email here');
    this.registrations.take(clientKey(req.client?.ip), name);
    const tenant = await this.tenants.findByName(name);
    // an unknown tenant reads the same as a domain it does not take
    if (!tenant?.emailDomains.includes(domain))
      throw new AppError('email_domain_not_allowed', `tenant "${name}" does not take people from ${domain}`);
    const wait = this.config.AUTH_EMAIL_RESEND_SEC;
    if (!(await this.sends.claim(address, wait)))
      throw new AppError(
        'rate_limited',
        'a mail went to this address a moment ago; retry later',
        wait * 1000,
      );
    let made: { invite: string; expiresAt: Date } | undefined;
    let outcome: 'delivered' | 'refused';
    try {
      made = await this.invites.create(
        tenant.id,
        'member',
        EMAIL_DOMAIN_RULE,
        this.config.AUTH_EMAIL_INVITE_TTL_SEC,
        address,
      );
      outcome = await this.mailer.send(inviteMail(name, address, made));
    } catch (err) {
      // nobody holds this invite: withdraw it, and let the person try again at once
      await this.undo(made, address, true);
      throw err;
    }
    if (outcome === 'refused') {
      // answered as if sent (and the address waits as if it were), so the answer does not tell
      // which mailboxes exist at the domain
      await this.undo(made, address, false);
      this.logger.info({ tenantId: tenant.id, domain }, 'the mail server refused an email invite');
    } else this.logger.info({ tenantId: tenant.id, domain }, 'email invite sent');
    return { expiresAt: made.expiresAt.toISOString() };
  }

  private async undo(made: { invite: string } | undefined, address: string, freeSlot: boolean) {
    await Promise.all([
      made && this.invites.withdraw(made.invite),
      freeSlot && this.sends.release(address),
    ]).catch((e: unknown) => this.logger.error({ err: e }, 'an unsent email invite was not withdrawn'));
  }
}

function inviteMail(tenant: string, to: string, invite: { invite: string; expiresAt: Date }) {
  return {
    to,
    subject: `Your invite to ${tenant}`,
    text: [
      `Someone (hopefully you) asked to join "${tenant}" with this address.`,
      '',
      `Your invite: ${invite.invite}`,
      '',
      `Register in "${tenant}" with it before ${invite.expiresAt.toISOString()}; it works once.`,
      'If you did not ask for it, ignore this mail.',
    ].join('\n'),
  };
}
