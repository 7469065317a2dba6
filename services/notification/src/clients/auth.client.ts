import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { createGrpcClient, type PromiseClient } from '@im/platform/grpc';
import { CONFIG } from '@im/platform/nest';
import type { Caller } from '@im/proto/common/v1';
import { AuthServiceService } from '@im/proto/auth/v1';
import type { NotificationConfig } from '../config.js';

const TTL_MS = 60_000;

/** The auth service, for the names a push shows; cached a minute. */
@Injectable()
export class AuthClient implements OnApplicationShutdown {
  private readonly client: PromiseClient<typeof AuthServiceService> & { close(): void };
  private readonly names = new Map<string, { name: string; until: number }>();

  constructor(@Inject(CONFIG) config: NotificationConfig) {
    this.client = createGrpcClient(AuthServiceService, {
      name: 'auth',
      address: config.AUTH_GRPC_ADDR,
      deadlineMs: 3_000,
      idempotent: ['batchGetUsers', 'getCallerRole'],
    });
  }

  /** Display names (the username when there is none) of users in the caller's tenant. */
  async displayNames(caller: Caller, userIds: readonly string[]): Promise<Map<string, string>> {
    const now = Date.now();
    const out = new Map<string, string>();
    const missing: string[] = [];
    for (const id of new Set(userIds)) {
      const hit = this.names.get(id);
      if (hit && hit.until > now) out.set(id, hit.name);
      else missing.push(id);
    }
    if (missing.length > 0) {
      const res = await this.client.batchGetUsers({ caller, userIds: missing });
      for (const u of res.users) {
        const name = u.displayName || u.username;
        out.set(u.id, name);
        this.names.set(u.id, { name, until: now + TTL_MS });
      }
      if (this.names.size > 100_000) this.names.clear();
    }
    return out;
  }

  /** The caller's role in their tenant, read fresh: "admin", "member", or "" (disabled, unknown). */
  async roleOf(caller: Caller): Promise<string> {
    return (await this.client.getCallerRole({ caller })).role;
  }

  onApplicationShutdown(): void {
    this.client.close();
  }
}
