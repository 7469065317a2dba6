import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@im/platform/errors';
import { CONFIG } from '@im/platform/nest';
import type { GetMfaStatusResponse, MfaChallenge } from '@im/proto/auth/v1';
import type { Caller } from '@im/proto/common/v1';
import type { AuthConfig } from '../config.js';
import { KeyEncryption } from '../keys/key-encryption.js';
import { LoginFailuresTable } from '../storage/login-failures.table.js';
import { MfaChallengesTable, type ChallengeRow } from '../storage/mfa-challenges.table.js';
import { MfaTable, type TotpRow } from '../storage/mfa.table.js';
import { TenantsTable } from '../storage/tenants.table.js';
import { UsersTable, type UserRow } from '../storage/users.table.js';
import { KnownDevices } from './known-devices.js';
import {
  hashSecretToken,
  newRecoveryCodes,
  newTotpSecret,
  normalizeRecoveryCode,
  totpStep,
  totpUri,
} from './second-factor.js';

/**
 * The second factor: TOTP enrolment, recovery codes, the challenge between a right password and a
 * session, and the tenant policy that requires it. Every code checked here counts against the
 * user's failure budgets (MFA_MAX_FAILURES per LOGIN_FAILURE_WINDOW_SEC and MFA_MAX_FAILURES_PER_DAY,
 * across challenges), and a challenge takes MFA_CHALLENGE_ATTEMPTS codes at most.
 */
@Injectable()
export class MfaService {
  private readonly sealer: KeyEncryption;

  constructor(
    @Inject(CONFIG) private readonly config: AuthConfig,
    private readonly mfa: MfaTable,
    private readonly challenges: MfaChallengesTable,
    private readonly failures: LoginFailuresTable,
    private readonly tenants: TenantsTable,
    private readonly users: UsersTable,
    private readonly devices: KnownDevices,
  ) {
    this.sealer = new KeyEncryption(config.AUTH_KEY_ENCRYPTION_KEY);
  }

  async required(user: UserRow): Promise<boolean> {
    const policy = (await this.tenants.findById(user.tenantId))?.mfaPolicy ?? 'off';
    return policy === 'everyone' || (policy === 'admins' && user.role === 'admin');
  }

  /** After the right password: the second step, or undefined when this user needs none. */
  async challenge(user: UserRow): Promise<MfaChallenge | undefined> {
    if (user.kind === 'bot') return undefined;
    const [totp, required] = await Promise.all([this.mfa.getTotp(user.userId), this.required(user)]);
    const enrolled = totp?.confirmedAt !== undefined;
    if (!enrolled && !required) return undefined;
    const token = randomBytes(32).toString('base64url');
    const ttl = this.config.MFA_CHALLENGE_TTL_SEC;
    await this.challenges.create(hashSecretToken(token), user.userId, ttl);
    return { token, expiresIn: ttl, enrolled };
  }

  async status(caller: Caller): Promise<GetMfaStatusResponse> {
    const user = await this.member(caller);
    const [totp, required, left] = await Promise.all([
      this.mfa.getTotp(user.userId),
      this.required(user),
      this.mfa.recoveryCodesLeft(user.userId),
    ]);
    return {
      totp: !totp ? 'off' : totp.confirmedAt ? 'on' : 'pending',
      recoveryCodesLeft: totp?.confirmedAt ? left : 0,
      required,
    };
  }

  /**
   * A new pending secret for the caller (whose password was checked), or for the user of a live
   * challenge (enrolling at login).
   */
  async beginEnrolment(who: { caller: Caller } | { mfaToken: string }) {
    const user =
      'caller' in who
        ? await this.member(who.caller)
        : await this.users.get(await this.challengeUser(who.mfaToken));
    if (!user) throw new AppError('invalid_mfa_token', 'this login challenge is not valid');
    if (user.disabledAt)
      throw new AppError('account_disabled', 'this account was disabled by a tenant admin');
    if (user.kind === 'bot') throw new AppError('forbidden', 'bots use API keys, not a second factor');
    const secret = newTotpSecret();
    if (!(await this.mfa.putPending(user.userId, this.sealer.seal(secret))))
      throw new AppError('conflict', 'a second factor is on already: turn it off first');
    return { secret, uri: totpUri(secret, this.config.MFA_ISSUER, user.username) };
  }

  /** The caller's first code of the pending secret turns it on; answers fresh recovery codes. */
  async confirmEnrolment(caller: Caller, code: string): Promise<string[]> {
    const user = await this.member(caller);
    await this.checked(user.userId, async () => {
      const totp = await this.mfa.getTotp(user.userId);
      if (!totp || totp.confirmedAt)
        throw new AppError('mfa_enrolment_required', 'no enrolment is pending: begin one first');
      return this.confirm(user.userId, totp, code);
    });
    return this.replaceRecoveryCodes(user.userId);
  }

  /**
   * Spends one attempt of the challenge on `code`; the right one uses the challenge up. When the
   * challenge was an enrolment, the code confirms the pending secret and recovery codes are made.
   */
  async complete(mfaToken: string, code: string): Promise<{ userId: string; recoveryCodes: string[] }> {
    const hash = hashSecretToken(mfaToken);
    // asked before an attempt is spent: a client that skipped enrolment loses nothing
    if (!(await this.mfa.getTotp((await this.liveChallenge(hash)).userId)))
      throw new AppError('mfa_enrolment_required', 'no second factor yet: begin enrolment first');
    const challenge = await this.takeAttempt(hash);
    let enrolled = false;
    await this.checked(challenge.userId, async () => {
      const totp = await this.mfa.getTotp(challenge.userId);
      if (!totp) throw new AppError('mfa_enrolment_required', 'no second factor yet: begin enrolment first');
      if (totp.confirmedAt) return this.verify(challenge.userId, totp, code);
      return (enrolled = await this.confirm(challenge.userId, totp, code));
    });
    if (!(await this.challenges.use(hash)))
      throw new AppError('invalid_mfa_token', 'this login challenge was used already');
    return {
      userId: challenge.userId,
      recoveryCodes: enrolled ? await this.replaceRecoveryCodes(challenge.userId) : [],
    };
  }

  /** Needs a current code; every earlier recovery code stops working. */
  async regenerateRecoveryCodes(caller: Caller, code: string): Promise<string[]> {
    const user = await this.member(caller);
    await this.checked(user.userId, async () => this.verify(user.userId, await this.enrolled(user), code));
    return this.replaceRecoveryCodes(user.userId);
  }

  /** Needs a current code, unless enrolment never finished; refused while policy requires MFA. */
  async disable(caller: Caller, code: string): Promise<void> {
    const user = await this.member(caller);
    if (await this.required(user))
      throw new AppError('forbidden', 'tenant policy requires a second factor for this user');
    const totp = await this.mfa.getTotp(user.userId);
    if (totp?.confirmedAt) await this.checked(user.userId, () => this.verify(user.userId, totp, code));
    await this.mfa.removeAll(user.userId);
  }

  /** The user a live challenge is for (no attempt spent). */
  async challengeUser(mfaToken: string): Promise<string> {
    return (await this.liveChallenge(hashSecretToken(mfaToken))).userId;
  }

  /**
   * A tenant admin's reset (a lost phone): the user enrols again when policy asks, and the devices
   * they logged in from are strangers again (the lost phone among them).
   */
  async reset(userId: string): Promise<void> {
    await this.mfa.removeAll(userId);
    await this.devices.forgetAll(userId);
  }

  async isOn(userId: string): Promise<boolean> {
    return (await this.mfa.getTotp(userId))?.confirmedAt !== undefined;
  }

  private async confirm(userId: string, totp: TotpRow, code: string): Promise<boolean> {
    const step = totpStep(this.sealer.open(totp.secret), code.trim(), Date.now());
    return step !== undefined && this.mfa.confirm(userId, totp.secret, step);
  }

  /** A TOTP code (each time step good once) or an unspent recovery code. */
  private async verify(userId: string, totp: TotpRow, code: string): Promise<boolean> {
    const step = totpStep(this.sealer.open(totp.secret), code.trim(), Date.now());
    if (step !== undefined) return this.mfa.useStep(userId, step);
    const recovery = normalizeRecoveryCode(code);
    return recovery !== undefined && this.mfa.spendRecoveryCode(userId, hashSecretToken(recovery));
  }

  private async replaceRecoveryCodes(userId: string): Promise<string[]> {
    const codes = newRecoveryCodes();
    await this.mfa.replaceRecoveryCodes(
      userId,
      codes.map((c) => hashSecretToken(normalizeRecoveryCode(c)!)),
    );
    return codes;
  }

  /**
   * Runs one code check against the user's failure budgets. The attempt is recorded before the
   * check and counted again after, so parallel guesses cannot all pass one count together; a right
   * code, or a check that failed for another reason, is forgotten.
   */
  private async checked(userId: string, check: () => Promise<boolean>): Promise<void> {
    const c = this.config;
    const budgets = [
      { scope: 'mfa', max: c.MFA_MAX_FAILURES, windowSec: c.LOGIN_FAILURE_WINDOW_SEC },
      { scope: 'mfa-day', max: c.MFA_MAX_FAILURES_PER_DAY, windowSec: 86_400 },
    ] as const;
    const refuseIfSpent = async (own: readonly string[] = []) => {
      const rows = await Promise.all(budgets.map((b) => this.failures.recent(b.scope, userId, b.max + 1)));
      const waits = budgets.map((b, i) => {
        const others = rows[i]!.filter((r) => r.id !== own[i]);
        return others.length < b.max ? 0 : others[b.max - 1]!.at + b.windowSec * 1000 - Date.now();
      });
      const wait = Math.max(...waits);
      if (wait > 0)
        throw new AppError('rate_limited', 'too many wrong codes; try again later', Math.max(1_000, wait));
    };
    await refuseIfSpent();
    const ids = await Promise.all(budgets.map((b) => this.failures.record(b.scope, userId, b.windowSec)));
    const forget = () =>
      Promise.all(budgets.map((b, i) => this.failures.forget(b.scope, userId, ids[i]!))).then(
        () => undefined,
      );
    let ok: boolean;
    try {
      await refuseIfSpent(ids);
      ok = await check();
    } catch (err) {
      await forget().catch(() => undefined);
      throw err;
    }
    if (!ok) throw new AppError('invalid_mfa_code', 'the code is not valid');
    await forget();
  }

  private async liveChallenge(hash: string): Promise<ChallengeRow> {
    const c = await this.challenges.get(hash);
    if (!c || c.used || c.expiresAt.getTime() <= Date.now())
      throw new AppError('invalid_mfa_token', 'this login challenge is not valid; log in again');
    return c;
  }

  private async takeAttempt(hash: string): Promise<ChallengeRow> {
    for (let tries = 0; tries < 5; tries++) {
      const c = await this.liveChallenge(hash);
      if (c.attempts >= this.config.MFA_CHALLENGE_ATTEMPTS)
        throw new AppError('invalid_mfa_token', 'too many codes for this login challenge; log in again');
      if (await this.challenges.takeAttempt(hash, c.attempts)) return c;
    }
    throw new AppError('conflict', 'codes for this login challenge arrived together; try again');
  }

  private async enrolled(user: UserRow): Promise<TotpRow> {
    const totp = await this.mfa.getTotp(user.userId);
    if (!totp?.confirmedAt) throw new AppError('conflict', 'no second factor is on');
    return totp;
  }

  private async member(caller: Caller): Promise<UserRow> {
    const user = await this.users.get(caller.userId);
    if (!user || user.tenantId !== caller.tenantId || user.disabledAt)
      throw new AppError('not_found', 'no such user');
    return user;
  }
}
