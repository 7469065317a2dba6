import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { createGrpcClient, type PromiseClient } from '@im/platform/grpc';
import { CONFIG } from '@im/platform/nest';
import { AuthServiceService } from '@im/proto/auth/v1';
import { MediaServiceService } from '@im/proto/media/v1';
import { MessageServiceService } from '@im/proto/message/v1';
import { NotificationServiceService } from '@im/proto/notification/v1';
import { PresenceServiceService } from '@im/proto/presence/v1';
import type { GatewayConfig } from '../config.js';

/**
 * gRPC clients of the services behind the gateway. Every call has a deadline; only calls that
 * are safe to repeat are retried (sends are, thanks to clientMsgId; refresh is not: a repeated
 * refresh would look like token theft).
 */
@Injectable()
export class Downstream implements OnApplicationShutdown {
  readonly auth: PromiseClient<typeof AuthServiceService> & { close(): void };
  readonly message: PromiseClient<typeof MessageServiceService> & { close(): void };
  readonly presence: PromiseClient<typeof PresenceServiceService> & { close(): void };
  readonly media: PromiseClient<typeof MediaServiceService> & { close(): void };
  readonly notification: PromiseClient<typeof NotificationServiceService> & { close(): void };

  constructor(@Inject(CONFIG) config: GatewayConfig) {
    this.auth = createGrpcClient(AuthServiceService, {
      name: 'auth',
      address: config.AUTH_GRPC_ADDR,
      deadlineMs: 5_000,
      idempotent: ['getJwks', 'getUser', 'batchGetUsers', 'logout', 'verifyApiKey'],
    });
    this.message = createGrpcClient(MessageServiceService, {
      name: 'message',
      address: config.MESSAGE_GRPC_ADDR,
      deadlineMs: 15_000,
      idempotent: [
        'getConversation',
        'listConversations',
        'listMessages',
        'sync',
        'checkMembership',
        'listContacts',
        'sendMessage',
        'sendMessages',
        'markRead',
        'addMembers',
        'removeMember',
        'listMembers',
      ],
      // a message service of the previous version during a rolling upgrade knows only SendMessage
      unaryFallback: { sendMessages: 'sendMessage' },
    });
    this.presence = createGrpcClient(PresenceServiceService, {
      name: 'presence',
      address: config.PRESENCE_GRPC_ADDR,
      deadlineMs: 3_000,
      idempotent: ['getPresence', 'setStatus', 'reportDevices'],
    });
    this.media = createGrpcClient(MediaServiceService, { name: 'media', address: config.MEDIA_GRPC_ADDR });
    this.notification = createGrpcClient(NotificationServiceService, {
      name: 'notification',
      address: config.NOTIFICATION_GRPC_ADDR,
    });
  }

  onApplicationShutdown(): void {
    for (const c of [this.auth, this.message, this.presence, this.media, this.notification]) c.close();
  }
}
