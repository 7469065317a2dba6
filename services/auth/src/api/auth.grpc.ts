import { Injectable } from '@nestjs/common';
import { bindService, requireCaller as caller, type ServiceBinding } from '@im/platform/grpc';
import { AuthServiceService } from '@im/proto/auth/v1';
import { AuthService, type AuthResult, type SecondStep } from '../domain/auth.service.js';
import { BotsService } from '../domain/bots.service.js';
import { EmailInvites } from '../domain/email-invites.service.js';
import { MfaService } from '../domain/mfa.service.js';
import { TenancyService } from '../domain/tenancy.service.js';
import { KeyRing } from '../keys/key-ring.js';
import { SessionRevocations } from '../producers/session-revocations.js';

/** Tokens, or the challenge of a second step instead. */
const answer = (r: AuthResult | SecondStep) => ({ user: undefined, tokens: undefined, mfa: undefined, ...r });

/** im.auth.v1.AuthService: each handler only unpacks the request and calls the domain. */
@Injectable()
export class AuthGrpcApi {
  constructor(
    private readonly auth: AuthService,
    private readonly keys: KeyRing,
    private readonly tenancy: TenancyService,
    private readonly bots: BotsService,
    private readonly mfa: MfaService,
    private readonly emailInvites: EmailInvites,
    private readonly revocations: SessionRevocations,
  ) {}

  binding(): ServiceBinding {
    return bindService('im.auth.v1.AuthService', AuthServiceService, {
      register: async (req) => answer(await this.auth.register(req)),
      login: async (req) => answer(await this.auth.login(req)),
      refresh: (req) => this.auth.refresh(req),
      logout: async (req) => {
        await this.auth.logout(caller(req.caller));
        return {};
      },
      getJwks: async () => ({ keys: this.keys.jwks() }),
      getUser: async (req) => ({
        user: req.userId
          ? await this.auth.getUser(caller(req.caller), req.userId)
          : await this.auth.getUserByUsername(caller(req.caller), req.username),
      }),
      batchGetUsers: async (req) => ({ users: await this.auth.getUsers(caller(req.caller), req.userIds) }),
      createTenant: (req) =>
        this.tenancy.createTenant(req.operatorToken, req.name, req.registration, req.inviteTtlSeconds),
      createInvite: (req) =>
        this.tenancy.createInvite(
          req.operatorToken ? undefined : caller(req.caller),
          req.role,
          req.ttlSeconds,
          req.operatorToken ? { token: req.operatorToken, tenant: req.tenant } : undefined,
        ),
      listTenantUsers: (req) => this.tenancy.listUsers(caller(req.caller), req.cursor, req.limit),
      updateTenantUser: (req) =>
        this.tenancy.updateUser(caller(req.caller), req.userId, {
          disabled: req.disabled,
          role: req.role,
          remove: req.remove,
          resetMfa: req.resetMfa,
        }),
      updateTenant: (req) =>
        this.tenancy.updateTenant(caller(req.caller), {
          registration: req.registration,
          mfaPolicy: req.mfaPolicy,
          groupAdds: req.groupAdds,
          emailDomains: req.emailDomains?.domains,
        }),
      requestEmailInvite: (req) => this.emailInvites.request(req),
      getTenantSettings: (req) => this.tenancy.settings(req.tenantId),
      getCallerRole: async (req) => ({ role: await this.tenancy.callerRole(caller(req.caller)) }),
      createBot: (req) => this.bots.create(caller(req.caller), req.username, req.displayName),
      rotateBotKey: async (req) => ({ apiKey: await this.bots.rotate(caller(req.caller), req.botId) }),
      revokeBotKeys: async (req) => {
        await this.bots.revoke(caller(req.caller), req.botId);
        return {};
      },
      verifyApiKey: (req) => this.bots.verify(req.apiKey),
      listRecentRevocations: (req) => this.revocations.listRecent(req.pageToken),
      completeMfa: (req) => this.auth.completeMfa(req),
      beginTotpEnrolment: async (req) => {
        if (req.mfaToken) return this.mfa.beginEnrolment({ mfaToken: req.mfaToken });
        await this.auth.confirmPassword(caller(req.caller), req.password);
        return this.mfa.beginEnrolment({ caller: caller(req.caller) });
      },
      confirmTotpEnrolment: async (req) => ({
        recoveryCodes: await this.mfa.confirmEnrolment(caller(req.caller), req.code),
      }),
      getMfaStatus: (req) => this.mfa.status(caller(req.caller)),
      regenerateRecoveryCodes: async (req) => ({
        recoveryCodes: await this.mfa.regenerateRecoveryCodes(caller(req.caller), req.code),
      }),
      disableMfa: async (req) => {
        await this.mfa.disable(caller(req.caller), req.code);
        return {};
      },
      rotateSigningKey: async (req) => {
        this.tenancy.requireOperator(req.operatorToken);
        const r = await this.keys.rotate();
        return { kid: r.kid, activatedAt: r.activatedAt.toISOString() };
      },
    });
  }
}
