import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { createGrpcClient, type PromiseClient } from '@im/platform/grpc';
import { CONFIG } from '@im/platform/nest';
import { AuthServiceService } from '@im/proto/auth/v1';
import type { Caller } from '@im/proto/common/v1';
import type { MessageConfig } from '../config.js';

/** The auth service, for checking that new members exist in the caller's tenant. */
@Injectable()
export class AuthClient implements OnApplicationShutdown {
  private readonly client: PromiseClient<typeof AuthServiceService> & { close(): void };

  constructor(@Inject(CONFIG) config: MessageConfig) {
    this.client = createGrpcClient(AuthServiceService, {
      name: 'auth',
      address: config.AUTH_GRPC_ADDR,
      deadlineMs: 3_000,
      idempotent: ['batchGetUsers'],
    });
  }

  /** The ids among userIds that are users of the caller's tenant. */
  async existingInTenant(caller: Caller, userIds: readonly string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const res = await this.client.batchGetUsers({ caller, userIds: [...userIds] });
    return new Set(res.users.filter((u) => u.tenantId === caller.tenantId).map((u) => u.id));
  }

  onApplicationShutdown(): void {
    this.client.close();
  }
}
