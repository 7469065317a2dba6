import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { createGrpcClient, type PromiseClient } from '@im/platform/grpc';
import { CONFIG } from '@im/platform/nest';
import type { Caller } from '@im/proto/common/v1';
import { MessageServiceService } from '@im/proto/message/v1';
import type { MediaConfig } from '../config.js';

/** The message service, which knows where a media was sent and who may see it there. */
@Injectable()
export class MessageClient implements OnApplicationShutdown {
  private readonly client: PromiseClient<typeof MessageServiceService> & { close(): void };

  constructor(@Inject(CONFIG) config: MediaConfig) {
    this.client = createGrpcClient(MessageServiceService, {
      name: 'message',
      address: config.MESSAGE_GRPC_ADDR,
      deadlineMs: 3_000,
      idempotent: ['checkMediaAccess'],
    });
  }

  /** Whether the caller is a member of a conversation where the media was sent (and not deleted). */
  async mayAccess(caller: Caller, mediaId: string): Promise<boolean> {
    return (await this.client.checkMediaAccess({ caller, mediaId })).allowed;
  }

  onApplicationShutdown(): void {
    this.client.close();
  }
}
