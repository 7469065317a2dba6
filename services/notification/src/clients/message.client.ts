import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { createGrpcClient, type PromiseClient } from '@im/platform/grpc';
import { CONFIG } from '@im/platform/nest';
import type { Member } from '@im/proto/client/v1';
import type { Caller } from '@im/proto/common/v1';
import { MessageServiceService } from '@im/proto/message/v1';
import type { NotificationConfig } from '../config.js';

/** The message service: members of a conversation, unread totals for badges, membership checks. */
@Injectable()
export class MessageClient implements OnApplicationShutdown {
  private readonly client: PromiseClient<typeof MessageServiceService> & { close(): void };

  constructor(@Inject(CONFIG) config: NotificationConfig) {
    this.client = createGrpcClient(MessageServiceService, {
      name: 'message',
      address: config.MESSAGE_GRPC_ADDR,
      deadlineMs: 5_000,
      idempotent: ['listMembers', 'getUnreadTotals', 'checkMembership'],
    });
  }

  /** Every member, page by page. */
  async *members(tenantId: string, conversationId: string): AsyncGenerator<Member[]> {
    let after = '';
    do {
      const page = await this.client.listMembers({
        tenantId,
        conversationId,
        afterUserId: after,
        limit: 1_000,
      });
      yield page.members;
      after = page.nextAfterUserId;
    } while (after);
  }

  async unreadTotals(tenantId: string, userIds: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (let i = 0; i < userIds.length; i += 500) {
      const res = await this.client.getUnreadTotals({ tenantId, userIds: userIds.slice(i, i + 500) });
      for (const [user, n] of Object.entries(res.totals)) out.set(user, Number(n));
    }
    return out;
  }

  async isMember(caller: Caller, conversationId: string): Promise<boolean> {
    return (await this.client.checkMembership({ caller, conversationId, quickNegative: false })).member;
  }

  onApplicationShutdown(): void {
    this.client.close();
  }
}
