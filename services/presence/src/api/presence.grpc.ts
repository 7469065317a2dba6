import { Injectable } from '@nestjs/common';
import { AppError } from '@im/platform/errors';
import { bindService, requireCaller as caller, type ServiceBinding } from '@im/platform/grpc';
import { PresenceServiceService } from '@im/proto/presence/v1';
import { PresenceService } from '../domain/presence.service.js';
import { TypingService } from '../domain/typing.service.js';

/** im.presence.v1.PresenceService: unpack, check the caller, call the domain. */
@Injectable()
export class PresenceGrpcApi {
  constructor(
    private readonly presence: PresenceService,
    private readonly typing: TypingService,
  ) {}

  binding(): ServiceBinding {
    return bindService('im.presence.v1.PresenceService', PresenceServiceService, {
      getPresence: async (r) => ({ presence: await this.presence.getPresence(caller(r.caller), r.userIds) }),
      setStatus: async (r) => ({
        presence: await this.presence.setStatus(caller(r.caller), r.status, r.statusText),
      }),
      reportDevices: async (r, call) => {
        if (!r.gatewayId) throw new AppError('invalid_argument', 'gatewayId: required');
        const deadline = Number(call.getDeadline()); // ms since the epoch; Infinity without one
        await this.presence.devicesChanged(
          r.gatewayId,
          r.connected,
          r.disconnected,
          () => Date.now() >= deadline,
        );
        return {};
      },
      typing: async (r) => ({ sent: await this.typing.typing(caller(r.caller), r.conversationId) }),
    });
  }
}
