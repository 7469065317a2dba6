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
 * and a restart forgets none. An attempt is written, then admitted only if fewer than the limit
 * came before it within the window (time-ordered ids): parallel attempts are admitted in the order
 * they were written, never all together and never none of them; a refused one is forgotten.
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
    const scopes = limits.filter((s) => s.max > 0); // 0: no limit, nothing kept
    if (scopes.length === 0) return;
    const ttlSec = WINDOW_MS / 1000;
    const ids = await Promise.all(scopes.map((s) => this.attempts.record(s.scope, s.subject, ttlSec)));
    const since = Date.now() - WINDOW_MS;
    const before = await Promise.all(
      scopes.map((s, i) => this.attempts.countBefore(s.scope, s.subject, ids[i]!, since, s.max)),
    );
    const over = scopes.findIndex((s, i) => before[i]! >= s.max);
    if (over < 0) return;
    await Promise.all(
      scopes.map((s, i) => this.attempts.forget(s.scope, s.subject, ids[i]!).catch(() => undefined)),
    );
    const s = scopes[over]!;
    const times = (await this.attempts.recent(s.scope, s.subject, s.max)).map((r) => r.at);
    throw new AppError('rate_limited', s.refusal, retryAfterMs(times, s.max, WINDOW_MS, Date.now()) || 1_000);
  }
}
