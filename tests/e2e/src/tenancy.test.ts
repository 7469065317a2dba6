import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ImClient, TenantAdmin } from '@im/sdk';
import { eventually, Platform } from '@im/testing';
import { imAdmin as runImAdmin } from './support/im-admin.js';
import { outcome } from './support/outcome.js';
import { PASSWORD, username } from './support/users.js';

interface TenantUser {
  user: { id: string; username: string };
  role: string;
  disabled: boolean;
}

describe('tenant boundary: closed tenants, operator-made tenants, invites, tenant admins', () => {
  let platform: Platform;

  before(async () => {
    platform = await Platform.start({
      env: { auth: { AUTH_ALLOW_TENANT_CREATION: 'false', DEFAULT_TENANT_REGISTRATION: 'invite' } },
    });
  });
  after(() => platform?.stop());

  const imAdmin = (args: string[], token?: string) => runImAdmin(platform, args, token);

  const client = (tenant?: string) => new ImClient(platform.gatewayUrl(), tenant);

  async function tenantWithAdmin(): Promise<{ name: string; admin: ImClient }> {
    const name = `acme-${randomBytes(5).toString('hex')}`;
    const made = await imAdmin(['create-tenant', name]);
    assert.equal(made.code, 0, made.err);
    const admin = client(name);
    await admin.register(username('admin'), PASSWORD, 'The Admin', made.out.adminInvite as string);
    return { name, admin };
  }

  it('nobody registers into an unknown tenant, nor into an invite-only one without an invite', async () => {
    assert.equal(
      await outcome(client('nowhere-inc').register(username('x'), PASSWORD)),
      '403 invite_required',
      'an unknown tenant reads like a closed one',
    );
    const name = username('walkin');
    assert.equal(await outcome(client().register(name, PASSWORD)), '403 invite_required');
    assert.equal(
      await outcome(client().login(name, PASSWORD)),
      '401 invalid_credentials',
      'nothing was created',
    );
    assert.equal(
      await outcome(
        client().register(username('y'), PASSWORD, undefined, 'inv1.not-a-real-invite-code-at-all'),
      ),
      '403 invalid_invite',
    );
  });

  it('without a mail server, nobody joins by email', async () => {
    const { name, admin } = await tenantWithAdmin();
    await new TenantAdmin(admin).updateTenant({ emailDomains: ['acme.example'] });
    assert.equal(await outcome(client(name).requestEmailInvite('bob@acme.example')), '503 unavailable');
  });

  it('an operator makes a tenant with im-admin; its first admin registers with the invite, which works once', async () => {
    const name = `globex-${randomBytes(5).toString('hex')}`;
    const refused = await imAdmin(['create-tenant', name], 'wrong-operator-token-0123456789abcdef');
    assert.equal(refused.code, 1);
    assert.match(refused.err, /forbidden/);
    const made = await imAdmin(['create-tenant', name]);
    assert.equal(made.code, 0, made.err);
    assert.deepEqual((made.out.tenant as { registration: string }).registration, 'invite');
    assert.equal((await imAdmin(['create-tenant', name])).code, 1, 'exists');

    const invite = made.out.adminInvite as string;
    const admin = client(name);
    await admin.register(username('boss'), PASSWORD, undefined, invite);
    assert.equal(
      await outcome(client(name).register(username('again'), PASSWORD, undefined, invite)),
      '403 invalid_invite',
      'single use',
    );
    const { users } = await admin.call<{ users: TenantUser[] }>('GET', '/v1/tenant/users');
    assert.deepEqual(
      users.map((u) => [u.user.id, u.role, u.disabled]),
      [[admin.user.id, 'admin', false]],
    );
    // an invite of one tenant does not open another
    const other = await imAdmin(['invite', name]);
    assert.equal(
      await outcome(client().register(username('z'), PASSWORD, undefined, other.out.invite as string)),
      '403 invalid_invite',
    );
  });

  it('only an operator rotates the signing key, with im-admin; tokens keep working across it', async () => {
    const refused = await imAdmin(['rotate-signing-key'], 'wrong-operator-token-0123456789abcdef');
    assert.equal(refused.code, 1);
    assert.match(refused.err, /forbidden/);
    assert.equal((await imAdmin(['rotate-signing-key', 'extra'])).code, 2, 'no arguments');
    const rotated = await imAdmin(['rotate-signing-key']);
    assert.equal(rotated.code, 0, rotated.err);
    assert.match(rotated.out.kid as string, /\S/);
    const { admin } = await tenantWithAdmin(); // registered after the rotation
    await eventually(() => admin.me(), { timeoutMs: 15_000 });
  });

  it('a tenant admin invites members, who cannot do what admins do; admins can open registration', async () => {
    const { name, admin } = await tenantWithAdmin();
    const { invite } = await new TenantAdmin(admin).createInvite();
    const member = client(name);
    await member.register(username('member'), PASSWORD, undefined, invite);
    for (const [method, path, body] of [
      ['POST', '/v1/tenant/invites', {}],
      ['GET', '/v1/tenant/users', undefined],
      ['PATCH', `/v1/tenant/users/${admin.user.id}`, { disabled: true }],
      ['DELETE', `/v1/tenant/users/${admin.user.id}`, undefined],
      ['PATCH', '/v1/tenant', { registration: 'open' }],
    ] as const)
      assert.equal(await outcome(member.call(method, path, body)), '403 forbidden', `${method} ${path}`);

    assert.equal(await outcome(client(name).register(username('walkin'), PASSWORD)), '403 invite_required');
    assert.deepEqual(await admin.call('PATCH', '/v1/tenant', { registration: 'open' }), {
      id: admin.user.tenantId,
      name,
      registration: 'open',
      mfaPolicy: 'off',
      groupAdds: 'anyone',
      emailDomains: [],
    });
    await client(name).register(username('walkin'), PASSWORD);
    for (const body of [{ registration: 'sometimes' }, { role: 'admin' }])
      assert.equal(await outcome(admin.call('PATCH', '/v1/tenant', body)), '400 invalid_argument');
    for (const body of [{ role: 'owner' }, { ttlSeconds: 0 }, { ttlSeconds: 99_999_999 }])
      assert.equal(await outcome(admin.call('POST', '/v1/tenant/invites', body)), '400 invalid_argument');
  });

  it('disabling a user ends their sessions at once and refuses login; removing them too; admins of other tenants see nothing', async () => {
    const { name, admin } = await tenantWithAdmin();
    const { invite } = await new TenantAdmin(admin).createInvite({ role: 'member' });
    const member = client(name);
    const memberName = username('soon-gone');
    await member.register(memberName, PASSWORD, undefined, invite);
    const socket = await member.connect();

    const disabled = await admin.call<TenantUser>('PATCH', `/v1/tenant/users/${member.user.id}`, {
      disabled: true,
    });
    assert.equal(disabled.disabled, true);
    const closed = await socket.closed;
    assert.equal(closed.code, 4401);
    assert.equal(await outcome(member.call('GET', '/v1/conversations')), '401 session_revoked');
    assert.equal(await outcome(member.refresh()), '401 session_revoked');
    assert.equal(await outcome(client(name).login(memberName, PASSWORD)), '403 account_disabled');
    for (const [method, body] of [
      ['PATCH', { disabled: true }],
      ['PATCH', { role: 'member' }],
      ['PATCH', { resetMfa: true }],
      ['DELETE', undefined],
    ] as const)
      assert.equal(
        await outcome(admin.call(method, `/v1/tenant/users/${admin.user.id}`, body)),
        '403 forbidden',
        `not oneself: ${method} ${JSON.stringify(body)}`,
      );

    await admin.call('PATCH', `/v1/tenant/users/${member.user.id}`, { disabled: false });
    const back = client(name);
    await back.login(memberName, PASSWORD);

    const stranger = (await tenantWithAdmin()).admin;
    assert.equal(
      await outcome(stranger.call('DELETE', `/v1/tenant/users/${member.user.id}`)),
      '404 not_found',
    );

    const backSocket = await back.connect();
    await admin.call('DELETE', `/v1/tenant/users/${member.user.id}`);
    // the removed user's open socket is closed too, within the revocation bound (milliseconds with
    // NATS healthy; 10 s allowed here for a busy machine)
    const removedClose = await Promise.race([
      backSocket.closed,
      new Promise<{ code: number; reason: string }>((resolve) =>
        setTimeout(() => resolve({ code: 0, reason: 'still open after 10 s' }), 10_000).unref(),
      ),
    ]);
    await backSocket.close();
    assert.equal(removedClose.code, 4401, removedClose.reason);
    await eventually(async () =>
      assert.equal(await outcome(back.call('GET', '/v1/conversations')), '401 session_revoked'),
    );
    assert.equal(await outcome(client(name).login(memberName, PASSWORD)), '403 account_disabled');
    const { users } = await admin.call<{ users: TenantUser[] }>('GET', '/v1/tenant/users');
    assert.deepEqual(
      users.map((u) => u.user.id),
      [admin.user.id],
    );
    const again = await new TenantAdmin(admin).createInvite();
    assert.equal(
      await outcome(client(name).register(memberName, PASSWORD, undefined, again.invite)),
      '409 username_taken',
      'the username stays taken',
    );
  });

  it('people find each other by exact username and by id, only inside their own tenant', async () => {
    const one = await tenantWithAdmin();
    const other = await tenantWithAdmin();
    const found = await other.admin.userByUsername(other.admin.user.username.toUpperCase());
    assert.equal(found.id, other.admin.user.id, 'usernames are matched as normalised at registration');
    assert.equal(await outcome(one.admin.userByUsername(other.admin.user.username)), '404 not_found');
    assert.equal(await outcome(one.admin.userByUsername('nobody-by-this-name')), '404 not_found');
    const users = await one.admin.users([one.admin.user.id, other.admin.user.id, 'no-such-id']);
    assert.deepEqual(
      users.map((u) => u.id),
      [one.admin.user.id],
      'other tenants’ users are left out',
    );
    for (const path of ['/v1/users', '/v1/users?ids=', '/v1/users?ids=a%20b'])
      assert.equal(await outcome(one.admin.call('GET', path)), '400 invalid_argument', path);
  });

  it('invites: two registrations race for one, exactly one wins and the loser’s name stays free; expired ones and those of a removed admin are refused', async () => {
    const { name, admin } = await tenantWithAdmin();
    const { invite } = await new TenantAdmin(admin).createInvite();
    const names = [username('racer'), username('racer')];
    const results = await Promise.all(
      names.map((n) => outcome(client(name).register(n, PASSWORD, undefined, invite))),
    );
    assert.deepEqual([...results].sort(), ['403 invalid_invite', 'ok']);
    const loser = names[results.indexOf('403 invalid_invite')]!;
    const fresh = await new TenantAdmin(admin).createInvite();
    await client(name).register(loser, PASSWORD, undefined, fresh.invite);

    const short = await new TenantAdmin(admin).createInvite({ ttlSeconds: 1 });
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal(
      await outcome(client(name).register(username('late'), PASSWORD, undefined, short.invite)),
      '403 invalid_invite',
    );

    // a second admin makes an admin invite, then is removed: the invite dies with their rights
    const second = await new TenantAdmin(admin).createInvite({ role: 'admin' });
    const other = client(name);
    await other.register(username('admin2'), PASSWORD, undefined, second.invite);
    const planted = await new TenantAdmin(other).createInvite({ role: 'admin' });
    await admin.call('DELETE', `/v1/tenant/users/${other.user.id}`);
    assert.equal(
      await outcome(client(name).register(username('comeback'), PASSWORD, undefined, planted.invite)),
      '403 invalid_invite',
    );
    const stranger = (await tenantWithAdmin()).admin;
    assert.equal(
      await outcome(stranger.call('PATCH', `/v1/tenant/users/${admin.user.id}`, { disabled: true })),
      '404 not_found',
    );
  });
});
