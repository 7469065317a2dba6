import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@im/platform/errors';
import { uuidv7 } from '@im/platform/ids';
import type { Logger } from '@im/platform/logging';
import { CONFIG, LOGGER } from '@im/platform/nest';
import type { ClientInfo, MfaChallenge, TokenPair } from '@im/proto/auth/v1';
import type { User } from '@im/proto/client/v1';
import type { Caller } from '@im/proto/common/v1';
import type { AuthConfig } from '../config.js';
import { KeyRing } from '../keys/key-ring.js';
import { SessionRevocations } from '../producers/session-revocations.js';
import { ApiKeysTable } from '../storage/api-keys.table.js';
import { LoginFailuresTable } from '../storage/login-failures.table.js';
import { RefreshTokensTable } from '../storage/refresh-tokens.table.js';
import { SessionsTable } from '../storage/sessions.table.js';
import { TenantsTable } from '../storage/tenants.table.js';
import { UsersTable, type UserRow } from '../storage/users.table.js';
import { isPlausibleLogin, normalizeTenant, normalizeUsername, validateRegistration } from './credentials.js';
import { clientKey } from './client-address.js';
import { loginWaitMs } from './login-throttle.js';
import { PasswordHasher } from './password-hasher.js';
import { hashRefreshToken, isWellFormedRefreshToken, newRefreshToken } from './tokens.js';
import { KnownDevices } from './known-devices.js';
import { Invites } from './invites.js';
import { RegistrationLimiter } from './registration-limiter.js';
import { MfaService } from './mfa.service.js';

export interface AuthResult {
  user: User;
  tokens: TokenPair;
}

/** The password was right; a second factor is needed (MfaService.complete) before a session. */
export interface SecondStep {
  user?: User | undefined;
  mfa: MfaChallenge;
}

/** Registration, login, refresh-token rotation, logout: the rules, over the tables. */
@Injectable()
export class AuthService {
  private readonly hasher: PasswordHasher;
  /** Verified against when the user does not exist, so both failures cost the same time. */
  private decoyHash: Promise<string>;

  constructor(
    @Inject(CONFIG) private readonly config: AuthConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly tenants: TenantsTable,
    private readonly users: UsersTable,
    private readonly sessions: SessionsTable,
    private readonly refreshTokens: RefreshTokensTable,
    private readonly failures: LoginFailuresTable,
    private readonly keys: KeyRing,
    private readonly revocations: SessionRevocations,
    private readonly registrations: RegistrationLimiter,
    private readonly invites: Invites,
    private readonly apiKeys: ApiKeysTable,
    private readonly mfa: MfaService,
    private readonly devices: KnownDevices,
  ) {
    this.hasher = new PasswordHasher({ memoryKiB: config.ARGON2_MEMORY_KIB, passes: config.ARGON2_PASSES });
    this.decoyHash = this.hasher.hash(`decoy-${uuidv7()}`);
    if (!config.AUTH_OPERATOR_TOKEN && config.DEFAULT_TENANT_REGISTRATION === 'invite')
      logger.warn(
        'no AUTH_OPERATOR_TOKEN and the default tenant takes invites only: nobody can create tenants or invite the first admin',
      );
  }

  async register(req: {
    tenant: string;
    username: string;
    password: string;
    displayName: string;
    client?: ClientInfo | undefined;
    invite?: string | undefined;
  }): Promise<AuthResult | SecondStep> {
    const reg = validateRegistration({
      tenant: normalizeTenant(req.tenant, this.config.DEFAULT_TENANT),
      username: req.username,
      password: req.password,
      displayName: req.displayName,
    });
    await this.registrations.take(clientKey(req.client?.ip), reg.tenant);
    let tenant = await this.tenants.findByName(reg.tenant);
    let founder = false;
    if (!tenant) {
      // read as a closed tenant: the answer does not tell which tenant names exist
      if (!this.config.AUTH_ALLOW_TENANT_CREATION && reg.tenant !== this.config.DEFAULT_TENANT) {
        throw new AppError('invite_required', `tenant "${reg.tenant}" takes new users by invite only`);
      }
      const isDefault = reg.tenant === this.config.DEFAULT_TENANT;
      const made = await this.tenants.createIfAbsent(
        reg.tenant,
        uuidv7(),
        isDefault ? this.config.DEFAULT_TENANT_REGISTRATION : 'open',
      );
      tenant = made.tenant;
      // whoever creates a tenant by registering (development mode) runs it
      founder = made.created && !isDefault;
    }
    const invite = req.invite ? await this.invites.check(req.invite, tenant.id) : undefined;
    if (!invite && tenant.registration !== 'open')
      throw new AppError('invite_required', `tenant "${reg.tenant}" takes new users by invite only`);
    const userId = uuidv7();
    if (!(await this.users.claimUsername(tenant.id, reg.username, userId))) {
      throw new AppError('username_taken', `username "${reg.username}" is taken`);
    }
    let spent = false;
    let emailClaimed = false;
    let row: UserRow;
    try {
      // a mailed invite proved its address: one account per address in the tenant
      if (invite?.email && !(emailClaimed = await this.users.claimEmail(tenant.id, invite.email, userId)))
        throw new AppError('email_taken', 'this email address already has an account here; log in instead');
      if (invite && !(spent = await this.invites.spend(invite, userId)))
        throw new AppError('invalid_invite', 'the invite was used meanwhile');
      row = {
        userId,
        tenantId: tenant.id,
        username: reg.username,
        displayName: reg.displayName,
        passwordHash: await this.hasher.hash(reg.password),
        createdAt: new Date(),
        role: founder ? 'admin' : (invite?.role ?? 'member'),
        email: invite?.email,
      };
      await this.users.insert(row);
    } catch (err) {
      // nothing half-made stays: the username, the address and the invite go back (best effort, logged)
      await Promise.all([
        this.users.releaseUsername(tenant.id, reg.username, userId),
        invite?.email && emailClaimed ? this.users.releaseEmail(tenant.id, invite.email, userId) : undefined,
        invite && spent ? this.invites.unspend(invite, userId) : undefined,
      ]).catch((e: unknown) =>
        this.logger.error({ err: e, userId }, 'registration left a claimed name or invite'),
      );
      throw err;
    }
    this.logger.info({ userId, tenantId: tenant.id }, 'user registered');
    // a tenant that requires MFA: the new user enrols before their first session
    const mfa = await this.mfa.challenge(row);
    if (mfa) return { user: toUser(row), mfa };
    return { user: toUser(row), tokens: await this.startSession(row, req.client) };
  }

  async login(req: {
    tenant: string;
    username: string;
    password: string;
    client?: ClientInfo | undefined;
    deviceToken?: string | undefined;
  }): Promise<AuthResult | SecondStep> {
    const tenantName = normalizeTenant(req.tenant, this.config.DEFAULT_TENANT);
    const username = normalizeUsername(req.username);
    const ip = clientKey(req.client?.ip);
    const account = `${tenantName}:${username}`;
    const knownDevice = await this.devices.spend(req.deviceToken, tenantName, username);
    const attempt = await this.throttle(account, ip, knownDevice);

    let user: UserRow | undefined;
    let ok: boolean;
    try {
      user = isPlausibleLogin(username, req.password, tenantName)
        ? await this.findUser(tenantName, username)
        : undefined;
      // bots never log in: they call the API with keys
      ok =
        user && user.kind !== 'bot'
          ? await this.hasher.verify(req.password, user.passwordHash)
          : await this.decoyVerify(req.password);
    } catch (err) {
      await attempt.forget().catch(() => undefined); // an outage is no failed guess
      throw err;
    }
    if (!user || !ok) throw new AppError('invalid_credentials', 'invalid username or password'); // stays a failure
    await attempt.forget();
    if (user.disabledAt)
      throw new AppError('account_disabled', 'this account was disabled by a tenant admin');
    const mfa = await this.mfa.challenge(user);
    if (mfa) return { mfa };
    return this.openSession(user, req.client);
  }

  /** The second step of a login: a right code (of the challenge's user) starts the session. */
  async completeMfa(req: {
    mfaToken: string;
    code: string;
    client?: ClientInfo | undefined;
  }): Promise<AuthResult & { recoveryCodes: string[] }> {
    // a user disabled between the password and the code: refused before any code is spent
    if ((await this.users.get(await this.mfa.challengeUser(req.mfaToken)))?.disabledAt)
      throw new AppError('account_disabled', 'this account was disabled by a tenant admin');
    const { userId, recoveryCodes } = await this.mfa.complete(req.mfaToken, req.code);
    const user = await this.users.get(userId);
    if (!user) throw new AppError('invalid_mfa_token', 'this login challenge is not valid; log in again');
    if (user.disabledAt)
      throw new AppError('account_disabled', 'this account was disabled by a tenant admin');
    return { ...(await this.openSession(user, req.client)), recoveryCodes };
  }

  /**
   * The caller proves it is them again (before changing their second factor), throttled like a
   * login from this session; a wrong password is invalid_credentials.
   */
  async confirmPassword(caller: Caller, password: string): Promise<void> {
    const user = await this.users.get(caller.userId);
    const tenant = user && (await this.tenants.findById(user.tenantId));
    if (!user || !tenant || user.tenantId !== caller.tenantId || user.disabledAt)
      throw new AppError('not_found', 'no such user');
    if (user.kind === 'bot') throw new AppError('forbidden', 'bots sign in with API keys, not a password');
    const attempt = await this.throttle(`${tenant.name}:${user.username}`, `session:${caller.sessionId}`);
    let ok: boolean;
    try {
      ok = password.length > 0 && (await this.hasher.verify(password, user.passwordHash));
    } catch (err) {
      await attempt.forget().catch(() => undefined);
      throw err;
    }
    if (!ok) throw new AppError('invalid_credentials', 'the password is not right');
    await attempt.forget();
  }

  private async openSession(user: UserRow, client: ClientInfo | undefined): Promise<AuthResult> {
    const [tokens, deviceToken] = await Promise.all([
      this.startSession(user, client),
      this.devices.issue(user.userId),
    ]);
    tokens.deviceToken = deviceToken;
    // a disable that read the sessions before this one was written: end it here
    if ((await this.users.get(user.userId))?.disabledAt) {
      await this.revoke(tokens.sessionId, user.userId, 'admin');
      throw new AppError('account_disabled', 'this account was disabled by a tenant admin');
    }
    return { user: toUser(user), tokens };
  }

  async refresh(req: { refreshToken: string }): Promise<AuthResult> {
    if (!isWellFormedRefreshToken(req.refreshToken))
      throw new AppError('invalid_refresh_token', 'refresh token is not valid');
    const hash = hashRefreshToken(req.refreshToken);
    const token = await this.refreshTokens.get(hash);
    if (!token || token.expiresAt.getTime() <= Date.now())
      throw new AppError('invalid_refresh_token', 'refresh token is not valid');
    const session = await this.sessions.get(token.sessionId);
    if (!session) throw new AppError('invalid_refresh_token', 'refresh token is not valid');
    if (session.revokedAt)
      throw new AppError('session_revoked', 'the session of this refresh token was revoked');
    const next = newRefreshToken();
    // the successor exists before the token is spent: a failure in between leaves a retry that
    // finds its successor (the grace), never a spent token without one
    await this.refreshTokens.insert(next.hash, session.sessionId, this.config.REFRESH_TOKEN_TTL_SEC);
    const spent =
      (!token.spentAt && (await this.refreshTokens.spend(hash, token.expiresAt, next.hash))) ||
      (await this.takeOverUnusedSuccessor(hash));
    if (!spent) {
      // A spent token came back: it was stolen or replayed. End the whole family.
      await this.revoke(session.sessionId, session.userId, 'refresh_reused');
      this.logger.warn(
        { sessionId: session.sessionId, userId: session.userId },
        'refresh token reused: session revoked',
      );
      throw new AppError('refresh_reused', 'refresh token was already used; the session is revoked');
    }
    const user = await this.users.get(session.userId);
    if (!user) throw new AppError('invalid_refresh_token', 'refresh token is not valid');
    if (user.disabledAt) {
      await this.revoke(session.sessionId, session.userId, 'admin');
      throw new AppError('account_disabled', 'this account was disabled by a tenant admin');
    }
    await this.sessions.touch(session.sessionId);
    const access = await this.keys.sign({ sub: user.userId, tid: user.tenantId, sid: session.sessionId });
    return {
      user: toUser(user),
      tokens: {
        accessToken: access.token,
        refreshToken: next.token,
        expiresIn: access.expiresIn,
        deviceToken: '',
        sessionId: session.sessionId,
      },
    };
  }

  /**
   * The same refresh again within REFRESH_REUSE_GRACE_SEC, its successor never used: the answer
   * was lost on the way, not stolen. The successor is spent in its place (so it cannot be used
   * later) and a new pair is issued. A successor already used means a real replay.
   */
  private async takeOverUnusedSuccessor(hash: string): Promise<boolean> {
    const graceMs = this.config.REFRESH_REUSE_GRACE_SEC * 1000;
    if (graceMs === 0) return false;
    const spent = await this.refreshTokens.get(hash);
    if (!spent?.spentAt || !spent.replacedBy || Date.now() - spent.spentAt.getTime() > graceMs) return false;
    const successor = await this.refreshTokens.get(spent.replacedBy);
    if (!successor || successor.spentAt) return false;
    // no successor recorded: a token spent this way gives no grace of its own (no chain of takeovers)
    return this.refreshTokens.spend(spent.replacedBy, successor.expiresAt, null);
  }

  async logout(caller: Caller): Promise<void> {
    const session = await this.sessions.get(caller.sessionId);
    if (!session || session.userId !== caller.userId) throw new AppError('not_found', 'no such session');
    // a retried logout publishes again (idempotent): an earlier try may have stopped halfway
    if (!session.revokedAt) await this.revoke(session.sessionId, session.userId, 'logout');
    else await this.announceRevocation(session.sessionId, session.userId, session.revokeReason ?? 'logout');
  }

  async getUser(caller: Caller, userId: string): Promise<User> {
    const user = await this.users.get(userId);
    if (!user || user.tenantId !== caller.tenantId) throw new AppError('not_found', 'no such user');
    return toUser(user);
  }

  /** Exact lookup in the caller's tenant (how people find each other to start a conversation). */
  async getUserByUsername(caller: Caller, username: string): Promise<User> {
    const userId = await this.users.findIdByUsername(caller.tenantId, normalizeUsername(username));
    if (!userId) throw new AppError('not_found', 'no such user');
    return this.getUser(caller, userId);
  }

  async getUsers(caller: Caller, userIds: readonly string[]): Promise<User[]> {
    if (userIds.length > 1_000) throw new AppError('invalid_argument', 'at most 1000 user ids per call');
    const rows = await this.users.getMany(userIds);
    return rows.filter((u) => u.tenantId === caller.tenantId).map(toUser);
  }

  private async startSession(user: UserRow, client: ClientInfo | undefined): Promise<TokenPair> {
    const sessionId = uuidv7();
    const refresh = newRefreshToken();
    await this.sessions.create({
      sessionId,
      tenantId: user.tenantId,
      userId: user.userId,
      clientIp: client?.ip ?? '',
      userAgent: (client?.userAgent ?? '').slice(0, 256),
    });
    await this.refreshTokens.insert(refresh.hash, sessionId, this.config.REFRESH_TOKEN_TTL_SEC);
    const access = await this.keys.sign({ sub: user.userId, tid: user.tenantId, sid: sessionId });
    return {
      accessToken: access.token,
      refreshToken: refresh.token,
      expiresIn: access.expiresIn,
      sessionId,
      deviceToken: '',
    };
  }

  /** Every API key of the user (a bot) stops working, on every gateway within the revocation bound. */
  async revokeKeys(userId: string): Promise<void> {
    // gateways cache a verified key for up to a minute: the revocation outlives that
    const expiresAt = new Date(Date.now() + 10 * 60_000).toISOString();
    for (const keyId of await this.apiKeys.revokeAllOf(userId))
      await this.revocations.publish({ sessionId: `key-${keyId}`, userId, expiresAt, reason: 'admin' });
  }

  /**
   * Every live session and API key of the user (a tenant admin disabled or removed them), and the
   * devices it logged in from are strangers again.
   */
  async revokeAll(userId: string, reason: string): Promise<number> {
    await this.revokeKeys(userId);
    await this.devices.forgetAll(userId);
    let n = 0;
    for (const sessionId of await this.sessions.idsOfUser(userId)) {
      const session = await this.sessions.get(sessionId);
      if (session && !session.revokedAt) {
        await this.revoke(sessionId, userId, reason);
        n++;
      }
    }
    return n;
  }

  /**
   * Published (outbox first) before the session row says revoked: a failure in between leaves a
   * session the gateways already refuse, never one marked revoked that they still accept.
   */
  private async revoke(sessionId: string, userId: string, reason: string): Promise<void> {
    await this.announceRevocation(sessionId, userId, reason);
    await this.sessions.revoke(sessionId, reason);
  }

  private announceRevocation(sessionId: string, userId: string, reason: string): Promise<void> {
    const expiresAt = new Date(Date.now() + this.config.ACCESS_TOKEN_TTL_SEC * 1000).toISOString();
    return this.revocations.publish({ sessionId, userId, expiresAt, reason });
  }

  /**
   * Decides on the failures so far without writing (a refusal leaves nothing behind), then records
   * the attempt in each scope and decides again against the others, so parallel guesses cannot all
   * pass one check together. The caller keeps the record of a wrong password and forgets the rest.
   */
  private async throttle(
    account: string,
    ip: string,
    knownDevice = false,
  ): Promise<{ forget(): Promise<void> }> {
    const c = this.config;
    const ttl = c.LOGIN_FAILURE_WINDOW_SEC;
    const scopes = [
      ['ip', ip],
      ['account-ip', `${account}|${ip}`],
      ['account', account],
    ] as const;
    const limits = {
      windowMs: ttl * 1000,
      maxPerIp: c.LOGIN_MAX_FAILURES_PER_IP,
      maxPerAccountAndIp: c.LOGIN_MAX_FAILURES_PER_ACCOUNT,
      slowdownMs: c.LOGIN_ACCOUNT_SLOWDOWN_SEC * 1000,
      maxPerAccount: c.LOGIN_MAX_FAILURES_PER_ACCOUNT_ALL_IPS,
    };
    const read = () =>
      Promise.all(
        scopes.map(([scope, subject], i) =>
          this.failures.recent(
            scope,
            subject,
            [limits.maxPerIp, limits.maxPerAccountAndIp, limits.maxPerAccount][i]! + 1,
          ),
        ),
      );
    const decide = (rows: Array<Array<{ id: string; at: number }>>, own: readonly string[] = []) => {
      const times = rows.map((r, i) => r.filter((x) => x.id !== own[i]).map((x) => x.at));
      // a known device is not locked out by strangers' failures on the account (it is still
      // counted, and slowed like anyone on its own address)
      const account = knownDevice ? [] : times[2]!;
      return loginWaitMs({ ip: times[0]!, accountAndIp: times[1]!, account }, limits, Date.now());
    };
    const refuse = (wait: number) =>
      new AppError('rate_limited', 'too many failed logins; try again later', wait);

    const before = decide(await read());
    if (before > 0) throw refuse(before);
    const ids = await Promise.all(
      scopes.map(([scope, subject]) => this.failures.record(scope, subject, ttl)),
    );
    const forget = () =>
      Promise.all(scopes.map(([scope, subject], i) => this.failures.forget(scope, subject, ids[i]!))).then(
        () => undefined,
      );
    const racing = decide(await read(), ids);
    if (racing > 0) {
      await forget();
      throw refuse(racing);
    }
    return { forget };
  }

  private async findUser(tenantName: string, username: string): Promise<UserRow | undefined> {
    const tenant = await this.tenants.findByName(tenantName);
    if (!tenant) return undefined;
    const id = await this.users.findIdByUsername(tenant.id, username);
    const user = id ? await this.users.get(id) : undefined;
    // tenants and users from before the tenant indexes: indexed as they log in
    if (user)
      await Promise.all([this.tenants.indexId(tenant), this.users.indexInTenant(tenant.id, user.userId)]);
    return user;
  }

  private async decoyVerify(password: string): Promise<false> {
    await this.hasher.verify(password, await this.decoyHash);
    return false;
  }
}

/** The public User of a stored one. */
export function toUser(row: UserRow): User {
  return {
    id: row.userId,
    tenantId: row.tenantId,
    username: row.username,
    displayName: row.displayName,
    createdAt: row.createdAt.toISOString(),
  };
}
