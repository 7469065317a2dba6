import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@im/platform/errors';
import { CONFIG } from '@im/platform/nest';
import type { AuthConfig } from '../config.js';
import { LoginFailuresTable, type FailureScope } from '../storage/login-failures.table.js';
import { retryAfterMs } from './login-throttle.js';

const WINDOW_MS = 60_000;

/**
 * Registrations (and email sign-ups) per client IP and per tenant per minute: a script cannot
 * mint accounts by the thousand, from one address or into one tenant. Attempts are kept in
 * Cassandra (login_failures, with a TTL of the window), so every auth replica counts the same
 * ones and a restart forgets none; each attempt is checked before it is written and again after,
 * so parallel attempts cannot all pass one check together.
 */
@Injectable()
export class RegistrationLimiter {
  constructor(
    @Inject(CONFIG) private readonly config: AuthConfig,
    private readonly attempts: LoginFailuresTable,
  ) {}

  /** Spends one registration of the IP and of the tenant, or throws rate_limited with the wait. */
  async take(ip: string, tenant: string): Promise<void> {
    const limits: ReadonlyArray<{ scope: FailureScope; subject: string; max: number; refusal: string }> = [
      {
        scope: 'register-ip',
        subject: ip,
        max: this.config.REGISTER_MAX_PER_IP_PER_MIN,
        refusal: 'too many registrations from this address; retry later',
      },
      {
        scope: 'register-tenant',
        subject: tenant,
        max: this.config.REGISTER_MAX_PER_TENANT_PER_MIN,
        refusal: 'too many registrations into this tenant; retry later',
      },
    ];
    // each check reads up to max + 1 attempts; 0 is no limit (nothing read or kept)
    const scopes = limits.filter((s) => s.max > 0);
    if (scopes.length === 0) return;
    const check = async (own: readonly string[] = []) => {
      const rows = await Promise.all(scopes.map((s) => this.attempts.recent(s.scope, s.subject, s.max + 1)));
      const now = Date.now();
      scopes.forEach((s, i) => {
        const times = rows[i]!.filter((r) => r.id !== own[i]).map((r) => r.at);
        const wait = retryAfterMs(times, s.max, WINDOW_MS, now);
        if (wait > 0) throw new AppError('rate_limited', s.refusal, wait);
      });
    };
    await check();
    const ttlSec = WINDOW_MS / 1000;
    const ids = await Promise.all(scopes.map((s) => this.attempts.record(s.scope, s.subject, ttlSec)));
    try {
      await check(ids);
    } catch (err) {
      await Promise.all(scopes.map((s, i) => this.attempts.forget(s.scope, s.subject, ids[i]!)));
      throw err;
    }
  }
}
