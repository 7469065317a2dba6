import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { ExponentialBackoff, handleWhen, noJitterGenerator, retry } from 'cockatiel';
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

const SEND_RETRIES = 2;

/**
 * Joining a tenant by email: an address at one of the tenant's email domains is mailed a
 * single-use member invite; registering with it proves the address (ADR 0029).
 */
@Injectable()
export class EmailInvites implements BeforeApplicationShutdown {
  /** A mail server in trouble for now (4xx, unreachable) is asked again after 1 s and 2 s, then given up on. */
  private readonly retries = retry(
    handleWhen((err) => err instanceof AppError && err.code === 'unavailable'),
    {
      maxAttempts: SEND_RETRIES,
      backoff: new ExponentialBackoff({ generator: noJitterGenerator, initialDelay: 1_000 }),
    },
  );
  private readonly sending = new Set<Promise<void>>();
  private readonly stopping = new AbortController();

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
    await this.registrations.take(clientKey(req.client?.ip), name);
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
    let made: { invite: string; expiresAt: Date };
    try {
      made = await this.invites.create(
        tenant.id,
        'member',
        EMAIL_DOMAIN_RULE,
        this.config.AUTH_EMAIL_INVITE_TTL_SEC,
        address,
      );
    } catch (err) {
      await this.sends.release(address).catch(() => undefined); // nothing was sent: ask again at once
      throw err;
    }
    // answered before the mail server is asked: how it answers (and how fast) must not tell which
    // mailboxes exist at the domain
    this.track(this.mail({ tenantId: tenant.id, name, domain, address, made }));
    return { expiresAt: made.expiresAt.toISOString() };
  }

  /** Lets the mails being sent finish their attempt, without further retries. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    await Promise.allSettled(this.sending);
  }

  private async mail(m: {
    tenantId: string;
    name: string;
    domain: string;
    address: string;
    made: { invite: string; expiresAt: Date };
  }): Promise<void> {
    const log = { tenantId: m.tenantId, domain: m.domain };
    let outcome: 'delivered' | 'refused';
    try {
      outcome = await this.retries.execute(({ signal }) => {
        // the policy starts a due retry even when aborted during its backoff
        if (signal.aborted) throw new AppError('unavailable', 'shutting down: the mail was not sent');
        return this.mailer.send(inviteMail(m.name, m.address, m.made));
      }, this.stopping.signal);
    } catch (err) {
      // nobody holds this invite: withdraw it. The address waits like any other, because a
      // server's "not now" may depend on the mailbox (450 unverified, 452 full), and a slot freed
      // only then would tell which mailboxes exist.
      this.logger.error({ ...log, err }, 'an email invite could not be sent');
      return this.withdraw(m.made);
    }
    if (outcome === 'refused') {
      this.logger.info(log, 'the mail server refused an email invite');
      return this.withdraw(m.made);
    }
    this.logger.info(log, 'email invite sent');
  }

  private track(sending: Promise<void>): void {
    this.sending.add(sending);
    void sending.finally(() => this.sending.delete(sending));
  }

  private async withdraw(made: { invite: string }): Promise<void> {
    await this.invites
      .withdraw(made.invite)
      .catch((e: unknown) => this.logger.error({ err: e }, 'an unsent email invite was not withdrawn'));
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
