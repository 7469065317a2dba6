import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ApiError, ImClient, TenantAdmin } from '@im/sdk';
import { authenticatorCode, Platform } from '@im/testing';
import { serviceKeyspace } from './support/keyspace.js';
import { outcome } from './support/outcome.js';
import { PASSWORD, username } from './support/users.js';

const STEP_MS = 30_000;
const MAX_FAILURES = 8;

/**
 * A user's authenticator app. Each time step's code is good once, and the server takes one step
 * of drift either side: the current step and the next are safe to send at any moment, so the
 * phone hands out each step once and waits for a new one when both are spent.
 */
class Phone {
  private lastStep = -Infinity;
  constructor(readonly secret: string) {}

  async code(): Promise<string> {
    for (;;) {
      const current = Math.floor(Date.now() / STEP_MS);
      const step = Math.max(current, this.lastStep + 1);
      if (step <= current + 1) {
        this.lastStep = step;
        return authenticatorCode(this.secret, step * STEP_MS);
      }
      await new Promise((r) => setTimeout(r, (current + 1) * STEP_MS - Date.now() + 50));
    }
  }

  /** A code of a step far away: wrong now (barring a one-in-a-million collision). */
  wrongCode(): string {
    return authenticatorCode(this.secret, Date.now() + 3_600_000 + Math.floor(Math.random() * 1e6) * STEP_MS);
  }
}

/** The challenge a login answered with instead of tokens. */
async function challengeOf(p: Promise<unknown>): Promise<{ mfaToken: string; enrolled: boolean }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiError && err.code === 'mfa_required' && err.mfa) return err.mfa;
    throw err;
  }
  assert.fail('expected mfa_required');
}

describe('MFA: TOTP enrolment, the second step of a login, recovery codes, tenant policy', () => {
  let platform: Platform;

  before(async () => {
    platform = await Platform.start({
      shared: true,
      env: { auth: { MFA_MAX_FAILURES: String(MAX_FAILURES) } },
    });
  });
  after(() => platform?.stop());

  /** A new tenant (its first user, `admin`, runs it) and a logged-in client in it. */
  async function newTenant() {
    const tenant = `mfa-${randomBytes(5).toString('hex')}`;
    const admin = new ImClient(platform.gatewayUrl(), tenant);
    const adminName = username('admin');
    await admin.register(adminName, PASSWORD);
    return { tenant, admin, adminName };
  }

  async function user(tenant: string) {
    const name = username('u');
    const client = new ImClient(platform.gatewayUrl(), tenant);
    await client.register(name, PASSWORD);
    return { client, name, fresh: () => new ImClient(platform.gatewayUrl(), tenant) };
  }

  /** Turns TOTP on for a logged-in user; their phone and recovery codes. */
  async function enrol(client: ImClient): Promise<{ phone: Phone; recoveryCodes: string[] }> {
    const { secret, uri } = await client.beginMfaEnrolment({ password: PASSWORD });
    assert.equal(new URL(uri).searchParams.get('secret'), secret);
    const phone = new Phone(secret);
    const { recoveryCodes } = await client.confirmMfaEnrolment(await phone.code());
    return { phone, recoveryCodes };
  }

  it('enrolment turns on only with a right code; then a login needs a second factor, each code works once', async () => {
    const { tenant } = await newTenant();
    const u = await user(tenant);
    const { secret } = await u.client.beginMfaEnrolment({ password: PASSWORD });
    const phone = new Phone(secret);
    assert.equal((await u.client.mfaStatus()).totp, 'pending');
    assert.equal(await outcome(u.client.confirmMfaEnrolment(phone.wrongCode())), '401 invalid_mfa_code');
    assert.equal(await outcome(u.fresh().login(u.name, PASSWORD)), 'ok', 'pending is not on');
    const { recoveryCodes } = await u.client.confirmMfaEnrolment(await phone.code());
    assert.equal(recoveryCodes.length, 10);
    assert.deepEqual(await u.client.mfaStatus(), { totp: 'on', recoveryCodesLeft: 10, required: false });

    const c = u.fresh();
    const challenge = await challengeOf(c.login(u.name, PASSWORD));
    assert.equal(challenge.enrolled, true);
    assert.equal(c.session, undefined, 'no session before the second factor');
    assert.equal(await outcome(c.completeMfa(challenge.mfaToken, phone.wrongCode())), '401 invalid_mfa_code');
    const code = await phone.code();
    const session = await c.completeMfa(challenge.mfaToken, code);
    assert.equal(session.user.id, u.client.user.id);
    assert.equal(session.recoveryCodes, undefined);
    assert.equal((await c.me()).user.id, u.client.user.id);
    assert.equal(
      await outcome(c.completeMfa(challenge.mfaToken, phone.wrongCode())),
      '401 invalid_mfa_token',
      'a challenge starts one session',
    );

    // the same code in another login: refused (a code seen over a shoulder is spent)
    const again = u.fresh();
    const second = await challengeOf(again.login(u.name, PASSWORD));
    assert.equal(await outcome(again.completeMfa(second.mfaToken, code)), '401 invalid_mfa_code');
    // a recovery code instead, typed in capitals; it works once
    assert.equal(await outcome(again.completeMfa(second.mfaToken, recoveryCodes[0]!.toUpperCase())), 'ok');
    const third = u.fresh();
    const t3 = await challengeOf(third.login(u.name, PASSWORD));
    assert.equal(await outcome(third.completeMfa(t3.mfaToken, recoveryCodes[0]!)), '401 invalid_mfa_code');
    assert.equal((await u.client.mfaStatus()).recoveryCodesLeft, 9);
  });

  it('new recovery codes replace the old ones; turning MFA off needs a code, then logins need none', async () => {
    const { tenant } = await newTenant();
    const u = await user(tenant);
    const { recoveryCodes } = await enrol(u.client);
    assert.equal(
      await outcome(u.client.regenerateRecoveryCodes(recoveryCodes[9]!.slice(0, 10))),
      '401 invalid_mfa_code',
    );
    const fresh = (await u.client.regenerateRecoveryCodes(recoveryCodes[0]!)).recoveryCodes;
    assert.equal(fresh.length, 10);
    assert.equal(
      await outcome(u.client.disableMfa(recoveryCodes[1]!)),
      '401 invalid_mfa_code',
      'old codes are gone',
    );
    assert.equal(
      await outcome(u.client.beginMfaEnrolment({ password: PASSWORD })),
      '409 conflict',
      'on already',
    );
    assert.equal(await outcome(u.client.disableMfa('')), '400 invalid_argument');
    assert.equal((await u.client.mfaStatus()).totp, 'on', 'refusals changed nothing');
    await u.client.disableMfa(fresh[0]!);
    assert.deepEqual(await u.client.mfaStatus(), { totp: 'off', recoveryCodesLeft: 0, required: false });
    assert.equal(await outcome(u.fresh().login(u.name, PASSWORD)), 'ok');
  });

  it('a challenge takes five codes, then the login starts over', async () => {
    const { tenant } = await newTenant();
    const u = await user(tenant);
    const { phone } = await enrol(u.client);
    const c = u.fresh();
    const challenge = await challengeOf(c.login(u.name, PASSWORD));
    for (let i = 0; i < 5; i++)
      assert.equal(
        await outcome(c.completeMfa(challenge.mfaToken, phone.wrongCode())),
        '401 invalid_mfa_code',
      );
    const right = await phone.code();
    assert.equal(await outcome(c.completeMfa(challenge.mfaToken, right)), '401 invalid_mfa_token');
    const retry = await challengeOf(c.login(u.name, PASSWORD));
    assert.equal(await outcome(c.completeMfa(retry.mfaToken, right)), 'ok', 'the unused code still works');
    assert.equal(await outcome(c.completeMfa('not-a-challenge', right)), '401 invalid_mfa_token');
  });

  it('wrong codes count per user across challenges: past the budget even a right code waits', async () => {
    const { tenant } = await newTenant();
    const u = await user(tenant);
    const { phone } = await enrol(u.client);
    const c = u.fresh();
    const first = await challengeOf(c.login(u.name, PASSWORD));
    for (let i = 0; i < 5; i++) await outcome(c.completeMfa(first.mfaToken, phone.wrongCode()));
    const second = await challengeOf(c.login(u.name, PASSWORD));
    for (let i = 0; i < MAX_FAILURES - 5; i++)
      assert.equal(await outcome(c.completeMfa(second.mfaToken, phone.wrongCode())), '401 invalid_mfa_code');
    const err = await c.completeMfa(second.mfaToken, await phone.code()).catch((e: unknown) => e);
    assert.ok(err instanceof ApiError && err.code === 'rate_limited', String(err));
    assert.ok(err.status === 429 && (err.retryAfterMs ?? 0) > 0);
    assert.equal(c.session, undefined);
  });

  it('parallel guesses cannot share the budget: at most MFA_MAX_FAILURES of them are checked', async () => {
    const { tenant } = await newTenant();
    const u = await user(tenant);
    const { phone } = await enrol(u.client);
    const c = u.fresh();
    const challenges = await Promise.all(
      Array.from({ length: 6 }, () => challengeOf(u.fresh().login(u.name, PASSWORD))),
    );
    const results = await Promise.all(
      challenges.flatMap((ch) =>
        Array.from({ length: 5 }, () => outcome(c.completeMfa(ch.mfaToken, phone.wrongCode()))),
      ),
    );
    const checked = results.filter((r) => r === '401 invalid_mfa_code').length;
    assert.ok(checked <= MAX_FAILURES, `${checked} wrong codes were checked: ${results.join(', ')}`);
    assert.ok(results.includes('429 rate_limited'), 'the budget ran out');
    for (const r of results)
      assert.ok(['401 invalid_mfa_code', '429 rate_limited', '409 conflict'].includes(r), `unexpected ${r}`);
  });

  it('tenant policy "admins": the admin enrols at their next login; members are not asked; no opting out', async () => {
    const { tenant, admin, adminName } = await newTenant();
    const member = await user(tenant);
    const set = await new TenantAdmin(admin).updateTenant({ mfaPolicy: 'admins' });
    assert.equal(set.mfaPolicy, 'admins');
    assert.equal(await outcome(member.fresh().login(member.name, PASSWORD)), 'ok');
    assert.equal(await outcome(admin.me()), 'ok', 'sessions from before the policy go on');

    const c = new ImClient(platform.gatewayUrl(), tenant);
    const challenge = await challengeOf(c.login(adminName, PASSWORD));
    assert.equal(challenge.enrolled, false);
    assert.equal(await outcome(c.completeMfa(challenge.mfaToken, '123456')), '409 mfa_enrolment_required');
    const { secret } = await c.beginMfaEnrolment({ mfaToken: challenge.mfaToken });
    const done = await c.completeMfa(challenge.mfaToken, authenticatorCode(secret));
    assert.equal(done.recoveryCodes?.length, 10);
    assert.deepEqual(await c.mfaStatus(), { totp: 'on', recoveryCodesLeft: 10, required: true });
    assert.equal(await outcome(c.disableMfa(done.recoveryCodes![0]!)), '403 forbidden');
    assert.equal((await c.mfaStatus()).totp, 'on');
    assert.equal((await member.client.mfaStatus()).required, false);
  });

  it('tenant policy "everyone": a new user enrols before their first session; an admin reset sends them back to enrolment', async () => {
    const { tenant, admin } = await newTenant();
    const tenantAdmin = new TenantAdmin(admin);
    await tenantAdmin.updateTenant({ mfaPolicy: 'everyone' });
    const name = username('newcomer');
    const c = new ImClient(platform.gatewayUrl(), tenant);
    const challenge = await challengeOf(c.register(name, PASSWORD));
    assert.equal(challenge.enrolled, false);
    assert.equal(c.session, undefined);
    const { secret } = await c.beginMfaEnrolment({ mfaToken: challenge.mfaToken });
    await c.completeMfa(challenge.mfaToken, authenticatorCode(secret));
    const listed = (await tenantAdmin.users()).users.find((x) => x.user?.id === c.user.id);
    assert.equal(listed?.mfa, true);

    const reset = await tenantAdmin.updateUser(c.user.id, { resetMfa: true });
    assert.equal(reset.mfa, false);
    const next = await challengeOf(new ImClient(platform.gatewayUrl(), tenant).login(name, PASSWORD));
    assert.equal(next.enrolled, false, 'the old secret is gone: enrol again');
  });

  it('enrolling needs the password again, and a login challenge cannot replace a factor that is on', async () => {
    const { tenant } = await newTenant();
    const u = await user(tenant);
    assert.equal(
      await outcome(u.client.beginMfaEnrolment({ password: 'not the password' })),
      '401 invalid_credentials',
      'a stolen access token alone cannot enrol',
    );
    assert.equal((await u.client.mfaStatus()).totp, 'off');
    const { phone } = await enrol(u.client);
    const c = u.fresh();
    const challenge = await challengeOf(c.login(u.name, PASSWORD));
    assert.equal(
      await outcome(c.beginMfaEnrolment({ mfaToken: challenge.mfaToken })),
      '409 conflict',
      'someone with only the password cannot swap in their own authenticator',
    );
    assert.equal(
      await outcome(c.completeMfa(challenge.mfaToken, await phone.code())),
      'ok',
      'the factor is unchanged',
    );
  });

  it('two right codes sent together to one challenge start one session', async () => {
    const { tenant } = await newTenant();
    const u = await user(tenant);
    const { phone, recoveryCodes } = await enrol(u.client);
    const challenge = await challengeOf(u.fresh().login(u.name, PASSWORD));
    const code = await phone.code();
    const results = await Promise.all([
      outcome(u.fresh().completeMfa(challenge.mfaToken, code)),
      outcome(u.fresh().completeMfa(challenge.mfaToken, recoveryCodes[0]!)),
    ]);
    assert.equal(results.filter((r) => r === 'ok').length, 1, results.join(', '));
  });

  it('a user disabled between the password and the code gets no session; bots cannot be admins; admins cannot reset their own factor', async () => {
    const { tenant, admin } = await newTenant();
    const tenantAdmin = new TenantAdmin(admin);
    const u = await user(tenant);
    const { phone } = await enrol(u.client);
    const c = u.fresh();
    const challenge = await challengeOf(c.login(u.name, PASSWORD));
    await tenantAdmin.updateUser(u.client.user.id, { disabled: true });
    assert.equal(
      await outcome(c.completeMfa(challenge.mfaToken, await phone.code())),
      '403 account_disabled',
    );
    assert.equal(c.session, undefined);

    const bot = await tenantAdmin.createBot(username('bot'));
    assert.equal(
      await outcome(tenantAdmin.updateUser(bot.bot.id!, { role: 'admin' })),
      '400 invalid_argument',
    );
    assert.equal(await outcome(tenantAdmin.updateUser(admin.user.id, { resetMfa: true })), '403 forbidden');
  });

  it('refuses bad input and strangers with stable codes, changing nothing', async () => {
    const { tenant, admin } = await newTenant();
    const member = await user(tenant);
    const base = platform.gatewayUrl();
    const post = async (path: string, body: unknown, token?: string) => {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
      return `${res.status} ${((await res.json().catch(() => ({}))) as { error?: { code: string } }).error?.code}`;
    };
    assert.equal(await post('/v1/auth/mfa', {}), '400 invalid_argument');
    assert.equal(
      await post('/v1/auth/mfa', { mfaToken: 'x'.repeat(200), code: '123456' }),
      '400 invalid_argument',
    );
    assert.equal(await post('/v1/auth/mfa', { mfaToken: 'nope', code: '123456' }), '401 invalid_mfa_token');
    assert.equal(await post('/v1/auth/mfa/totp', { mfaToken: 'nope' }), '401 invalid_mfa_token');
    assert.equal(await post('/v1/users/me/mfa/totp', {}), '401 unauthenticated');
    assert.equal(
      await outcome(member.client.confirmMfaEnrolment('123456')),
      '409 mfa_enrolment_required',
      'nothing pending',
    );
    assert.equal(
      await outcome(new TenantAdmin(member.client).updateTenant({ mfaPolicy: 'everyone' })),
      '403 forbidden',
    );
    assert.equal(
      await outcome(
        new TenantAdmin(admin).updateTenant({ mfaPolicy: 'bogus' as 'off', registration: 'invite' }),
      ),
      '400 invalid_argument',
    );
    const tenantNow = await new TenantAdmin(admin).updateTenant({});
    assert.equal(tenantNow.mfaPolicy, 'off');
    assert.equal(tenantNow.registration, 'open', 'a refused change applies no part of itself');
    assert.equal((await member.client.mfaStatus()).totp, 'off');
  });

  it('stores the secret sealed with the key-encryption key', async () => {
    const { tenant } = await newTenant();
    const u = await user(tenant);
    const { secret } = await u.client.beginMfaEnrolment({ password: PASSWORD });
    const db = await serviceKeyspace(platform, 'auth');
    try {
      const stored = (await db.execute('SELECT secret FROM mfa_totp WHERE user_id = ?', [u.client.user.id]))
        .first()
        .get('secret') as string;
      assert.match(stored, /^enc:v1:/);
      assert.ok(!stored.includes(secret));
    } finally {
      await db.shutdown();
    }
  });
});
