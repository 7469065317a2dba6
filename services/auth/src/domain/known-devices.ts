import { Inject, Injectable } from '@nestjs/common';
import { CONFIG } from '@im/platform/nest';
import type { AuthConfig } from '../config.js';
import { KnownDevicesTable } from '../storage/known-devices.table.js';
import { TenantsTable } from '../storage/tenants.table.js';
import { UsersTable } from '../storage/users.table.js';
import { hashDeviceToken, isWellFormedDeviceToken, newDeviceToken } from './tokens.js';

/** Begins user ids no user has (ids are UUIDs). */
const NOBODY = 'nobody';

/**
 * Devices a user logged in from: a login presenting one of its user's device tokens is not held
 * back by the account-wide failure limit (a distributed attack's failures). A token works once,
 * right or wrong password (a successful login hands out the next), so whoever lifts one gets one
 * guess past the lock, not a way around it.
 */
@Injectable()
export class KnownDevices {
  constructor(
    @Inject(CONFIG) private readonly config: AuthConfig,
    private readonly table: KnownDevicesTable,
    private readonly tenants: TenantsTable,
    private readonly users: UsersTable,
  ) {}

  /** A new token for the device the user just logged in from. */
  async issue(userId: string): Promise<string> {
    const device = newDeviceToken();
    await this.table.insert(device.hash, userId, this.config.AUTH_DEVICE_TOKEN_TTL_SEC);
    return device.token;
  }

  /**
   * Every device of the user becomes a stranger again: after a disable, a removal or a reset of the
   * second factor (a lost or stolen device), none of its tokens lifts the account-wide limit.
   */
  async forgetAll(userId: string): Promise<void> {
    await this.table.removeAll(userId);
  }

  /** Spends the token when it is the account's (read only when one is presented). */
  async spend(token: string | undefined, tenantName: string, username: string): Promise<boolean> {
    if (!token || !isWellFormedDeviceToken(token)) return false;
    const tenant = await this.tenants.findByName(tenantName);
    const userId = tenant && (await this.users.findIdByUsername(tenant.id, username));
    // spent (an LWT) for a user nobody has too, so the time a login takes does not tell who exists
    const spendAs = userId || `${NOBODY}/${tenantName}/${username}`; // a partition of its own each
    return (await this.table.spend(hashDeviceToken(token), spendAs)) && !!userId;
  }
}
