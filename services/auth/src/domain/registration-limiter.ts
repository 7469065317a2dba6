import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@im/platform/errors';
import { CONFIG } from '@im/platform/nest';
import type { AuthConfig } from '../config.js';
import { LoginFailuresTable, type FailureScope } from '../storage/login-failures.table.js';
import { retryAfterMs } from './login-throttle.js';

const WINDOW_MS = 60_000;

/**
 * Registration attempts (and email sign-ups) per client IP and per tenant in any minute: a script
 * cannot mint accounts by the thousand, from one address or into one tenant. Attempts are kept in
 * Cassandra (login_failures, with a TTL of the window), so every auth replica counts the same ones
 * and a restart forgets none. An attempt is written first and admitted only if fewer than the
 * limit others are in the window, so parallel attempts never pass together beyond the limit (a
 * burst may be refused whole); a refused one is forgotten. The address is counted before the
 * tenant, so one address over its limit spends nothing of its tenant's.
 */
@Injectable()
export class RegistrationLimiter {
  constructor(
    @Inject(CONFIG) private readonly config: AuthConfig,
    private readonly attempts: LoginFailuresTable,
  ) {}

  /** Spends one registration of the IP and of the tenant, or throws rate_limited with the wait. */
  async take(ip: string, tenant: string): Promise<void> {
    const perIp = await this.takeOne(
      'register-ip',
      ip,
      this.config.REGISTER_MAX_PER_IP_PER_MIN,
      'too many registrations from this address; retry later',
    );
    try {
      await this.takeOne(
        'register-tenant',
        tenant,
        this.config.REGISTER_MAX_PER_TENANT_PER_MIN,
        'too many registrations into this tenant; retry later',
      );
    } catch (err) {
      await perIp?.();
      throw err;
    }
  }

  /** One scope: admitted (with a way to forget it again), or rate_limited. 0 is no limit. */
  private async takeOne(
    scope: FailureScope,
    subject: string,
    max: number,
    refusal: string,
  ): Promise<(() => Promise<void>) | undefined> {
    if (max <= 0) return undefined;
    const id = await this.attempts.record(scope, subject, WINDOW_MS / 1000);
    const forget = () => this.attempts.forget(scope, subject, id).catch(() => undefined);
    const now = Date.now();
    const others = (await this.attempts.since(scope, subject, now - WINDOW_MS, max + 1)).filter(
      (a) => a.id !== id,
    );
    if (others.length < max) return forget;
    await forget();
    const wait = retryAfterMs(
      others.map((a) => a.at),
      max,
      WINDOW_MS,
      now,
    );
    throw new AppError('rate_limited', refusal, wait || 1_000);
  }
}
