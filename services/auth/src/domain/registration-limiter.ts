import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { AppError } from '@im/platform/errors';
import { CONFIG } from '@im/platform/nest';
import { KeyedTokenBuckets } from '@im/platform/rate-limit';
import type { AuthConfig } from '../config.js';

/**
 * Registrations per client IP and per tenant (token buckets refilled per minute, per auth
 * replica): a script cannot mint accounts by the thousand, from one address or into one tenant.
 */
@Injectable()
export class RegistrationLimiter implements OnApplicationShutdown {
  private readonly perIp: KeyedTokenBuckets;
  private readonly perTenant: KeyedTokenBuckets;
  private readonly sweeper: NodeJS.Timeout;

  constructor(@Inject(CONFIG) private readonly config: AuthConfig) {
    const n = config.REGISTER_MAX_PER_IP_PER_MIN;
    const t = config.REGISTER_MAX_PER_TENANT_PER_MIN;
    this.perIp = new KeyedTokenBuckets(n / 60, n);
    this.perTenant = new KeyedTokenBuckets(t / 60, t);
    this.sweeper = setInterval(() => {
      this.perIp.sweep();
      this.perTenant.sweep();
    }, 60_000);
    this.sweeper.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
  }

  /** Spends one registration of the IP and of the tenant, or throws rate_limited with the wait. */
  take(ip: string, tenant: string): void {
    const ipWait = this.perIp.take(ip);
    if (ipWait > 0)
      throw new AppError('rate_limited', 'too many registrations from this address; retry later', ipWait);
    const tenantWait = this.perTenant.take(tenant);
    if (tenantWait > 0)
      throw new AppError('rate_limited', 'too many registrations into this tenant; retry later', tenantWait);
  }
}
