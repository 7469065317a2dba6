import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { createGrpcClient, type PromiseClient } from '@im/platform/grpc';
import { CONFIG } from '@im/platform/nest';
import type { Attachment } from '@im/proto/client/v1';
import type { Caller } from '@im/proto/common/v1';
import { MediaServiceService } from '@im/proto/media/v1';
import type { MessageConfig } from '../config.js';

/** The media service, for the attachments of a send. */
@Injectable()
export class MediaClient implements OnApplicationShutdown {
  private readonly client: PromiseClient<typeof MediaServiceService> & { close(): void };

  constructor(@Inject(CONFIG) config: MessageConfig) {
    this.client = createGrpcClient(MediaServiceService, {
      name: 'media',
      address: config.MEDIA_GRPC_ADDR,
      deadlineMs: 3_000,
      idempotent: ['getAttachments'],
    });
  }

  /** The caller's ready media as attachments (server-side metadata); invalid_argument otherwise. */
  async attachments(caller: Caller, mediaIds: readonly string[]): Promise<Attachment[]> {
    if (mediaIds.length === 0) return [];
    return (await this.client.getAttachments({ caller, mediaIds: [...mediaIds] })).attachments;
  }

  onApplicationShutdown(): void {
    this.client.close();
  }
}
