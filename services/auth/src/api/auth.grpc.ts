import { Injectable } from '@nestjs/common';
import { bindService, requireCaller as caller, type ServiceBinding } from '@im/platform/grpc';
import { AuthServiceService } from '@im/proto/auth/v1';
import { AuthService } from '../domain/auth.service.js';
import { KeyRing } from '../keys/key-ring.js';

/** im.auth.v1.AuthService: each handler only unpacks the request and calls the domain. */
@Injectable()
export class AuthGrpcApi {
  constructor(
    private readonly auth: AuthService,
    private readonly keys: KeyRing,
  ) {}

  binding(): ServiceBinding {
    return bindService('im.auth.v1.AuthService', AuthServiceService, {
      register: (req) => this.auth.register(req),
      login: (req) => this.auth.login(req),
      refresh: (req) => this.auth.refresh(req),
      logout: async (req) => {
        await this.auth.logout(caller(req.caller));
        return {};
      },
      getJwks: async () => ({ keys: this.keys.jwks() }),
      getUser: async (req) => ({ user: await this.auth.getUser(caller(req.caller), req.userId) }),
      batchGetUsers: async (req) => ({ users: await this.auth.getUsers(caller(req.caller), req.userIds) }),
      rotateSigningKey: async () => {
        const r = await this.keys.rotate();
        return { kid: r.kid, activatedAt: r.activatedAt.toISOString() };
      },
    });
  }
}
