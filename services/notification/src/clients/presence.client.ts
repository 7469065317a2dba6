import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { createGrpcClient, type PromiseClient } from '@im/platform/grpc';
import { CONFIG } from '@im/platform/nest';
import type { Caller } from '@im/proto/common/v1';
import { PresenceServiceService } from '@im/proto/presence/v1';
import type { NotificationConfig } from '../config.js';
import type { PresenceStatus } from '../domain/notification-rules.js';

const BATCH = 1_000;

/** The presence service: who has a connected device, asked in batches. */
@Injectable()
export class PresenceClient implements OnApplicationShutdown {
  private readonly client: PromiseClient<typeof PresenceServiceService> & { close(): void };

  constructor(@Inject(CONFIG) config: NotificationConfig) {
    this.client = createGrpcClient(PresenceServiceService, {
      name: 'presence',
      address: config.PRESENCE_GRPC_ADDR,
      deadlineMs: 3_000,
      idempotent: ['getPresence'],
    });
  }

  /** Status per user, as the other members of the tenant see it (invisible reads as offline). */
  async statuses(caller: Caller, userIds: readonly string[]): Promise<Map<string, PresenceStatus>> {
    const out = new Map<string, PresenceStatus>();
    for (let i = 0; i < userIds.length; i += BATCH) {
      const res = await this.client.getPresence({ caller, userIds: userIds.slice(i, i + BATCH) });
      for (const p of res.presence) out.set(p.userId, p.status as PresenceStatus);
    }
    return out;
  }

  onApplicationShutdown(): void {
    this.client.close();
  }
}
