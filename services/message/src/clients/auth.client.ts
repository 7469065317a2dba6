import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { createGrpcClient, type PromiseClient } from '@im/platform/grpc';
import { CONFIG } from '@im/platform/nest';
import { AuthServiceService } from '@im/proto/auth/v1';
import type { Caller } from '@im/proto/common/v1';
import type { MessageConfig } from '../config.js';

const SETTINGS_TTL_MS = 30_000;

/** The auth service: whether new members exist in the caller's tenant; tenant settings. */
@Injectable()
export class AuthClient implements OnApplicationShutdown {
  private readonly client: PromiseClient<typeof AuthServiceService> & { close(): void };
  private readonly settings = new Map<string, { groupAdds: string; until: number }>();

  constructor(@Inject(CONFIG) config: MessageConfig) {
    this.client = createGrpcClient(AuthServiceService, {
      name: 'auth',
      address: config.AUTH_GRPC_ADDR,
      deadlineMs: 3_000,
      idempotent: ['batchGetUsers', 'getTenantSettings'],
    });
  }

  /** The ids among userIds that are users of the caller's tenant. */
  async existingInTenant(caller: Caller, userIds: readonly string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const res = await this.client.batchGetUsers({ caller, userIds: [...userIds] });
    return new Set(res.users.filter((u) => u.tenantId === caller.tenantId).map((u) => u.id));
  }

  /** Whether being added to a group needs consent in the tenant (read at most every 30 s). */
  async groupAddsNeedConsent(tenantId: string): Promise<boolean> {
    let hit = this.settings.get(tenantId);
    if (!hit || hit.until <= Date.now()) {
      const res = await this.client.getTenantSettings({ tenantId });
      if (this.settings.size >= 10_000) this.settings.clear();
      hit = { groupAdds: res.groupAdds, until: Date.now() + SETTINGS_TTL_MS };
      this.settings.set(tenantId, hit);
    }
    return hit.groupAdds === 'consent';
  }

  onApplicationShutdown(): void {
    this.client.close();
  }
}
