import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ImClient } from '@im/sdk';
import { eventually, Platform } from '@im/testing';
import { PASSWORD, username } from './support/users.js';

const PER_IP = 3;
const PER_TENANT = 5;
/** Failures on one account from all addresses before it waits for the window (a distributed attack). */
const ACCOUNT_LOCK_AFTER = 3;

describe('registration and login limits (per address, per tenant, per account)', () => {
  let platform: Platform;

  before(async () => {
    platform = await Platform.start({
      env: {
        // X-Forwarded-For names the client, as behind the ingress
        gateway: { TRUSTED_PROXIES: '127.0.0.1' },
        auth: {
          REGISTER_MAX_PER_IP_PER_MIN: String(PER_IP),
          REGISTER_MAX_PER_TENANT_PER_MIN: String(PER_TENANT),
          LOGIN_MAX_FAILURES_PER_ACCOUNT_ALL_IPS: String(ACCOUNT_LOCK_AFTER),
        },
      },
    });
  });
  after(() => platform?.stop());

  async function register(from: string, tenant: string, name = username('reg')) {
    const res = await fetch(`${platform.gatewayUrl()}/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
      body: JSON.stringify({ tenant, username: name, password: PASSWORD }),
    });
    const body = (await res.json()) as { error?: { code: string; retryAfterMs?: number } };
    return { status: res.status, code: body.error?.code, retryAfterMs: body.error?.retryAfterMs, name };
  }

  async function login(
    tenant: string,
    name: string,
    from = '192.0.2.250',
    password = PASSWORD,
    deviceToken?: string,
  ) {
    const res = await fetch(`${platform.gatewayUrl()}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
      body: JSON.stringify({ tenant, username: name, password, deviceToken }),
    });
    const body = (await res.json()) as { deviceToken?: string; error?: { code: string } };
    return { status: res.status, code: body.error?.code, deviceToken: body.deviceToken };
  }

  it(`one address registers ${PER_IP} accounts a minute; the next is refused with a retry hint and not created`, async () => {
    const tenant = `reg-ip-${randomBytes(3).toString('hex')}`;
    for (let i = 0; i < PER_IP; i++) assert.equal((await register('192.0.2.1', tenant)).status, 201);
    const refused = await register('192.0.2.1', tenant);
    assert.equal(refused.status, 429);
    assert.equal(refused.code, 'rate_limited');
    assert.ok(
      refused.retryAfterMs! > 0 && refused.retryAfterMs! <= 60_000,
      `retry after ${refused.retryAfterMs} ms`,
    );
    assert.equal((await login(tenant, refused.name)).status, 401, 'the refused account does not exist');
    assert.equal((await register('192.0.2.2', tenant)).status, 201, 'another address is not affected');
  });

  it('the count is kept in Cassandra: a restarted auth service (or another replica) goes on from it', async () => {
    const tenant = `reg-kept-${randomBytes(3).toString('hex')}`;
    for (let i = 0; i < PER_IP - 1; i++) assert.equal((await register('192.0.2.77', tenant)).status, 201);
    await platform.restartService('auth');
    // the gateway's channel to auth reconnects within a second or two
    await eventually(async () => assert.equal((await login(tenant, 'nobody', '192.0.2.78')).status, 401), {
      timeoutMs: 20_000,
      what: 'auth to answer again',
    });
    assert.equal((await register('192.0.2.77', tenant)).status, 201, 'the last one of the minute');
    assert.equal((await register('192.0.2.77', tenant)).code, 'rate_limited', 'the restart forgot none');
  });

  it('parallel registrations from one address never pass together beyond the limit', async () => {
    const tenant = `reg-race-${randomBytes(3).toString('hex')}`;
    const burst = await Promise.all(Array.from({ length: PER_IP + 3 }, () => register('192.0.2.88', tenant)));
    const created = burst.filter((r) => r.status === 201).length;
    assert.ok(created <= PER_IP, `${created} created at once, the limit is ${PER_IP}`);
    assert.ok(
      burst.every((r) => r.status === 201 || r.code === 'rate_limited'),
      'the rest are refused as rate_limited',
    );
    // and once the burst is over, the address registers again within its limit
    const after = await register('192.0.2.88', tenant);
    assert.ok(
      after.status === 201 || (after.code === 'rate_limited' && created === PER_IP),
      'refused afterwards only when the burst used the limit up',
    );
  });

  it('IPv6 addresses count by their /64: new addresses of one block share its budget', async () => {
    const tenant = `reg-v6-${randomBytes(3).toString('hex')}`;
    for (let i = 0; i < PER_IP; i++)
      assert.equal((await register(`2001:db8:7:1::${i + 1}`, tenant)).status, 201);
    assert.equal((await register('2001:db8:7:1:ffff::99', tenant)).code, 'rate_limited', 'same /64');
    assert.equal((await register('2001:db8:7:2::1', tenant)).status, 201, 'another /64 is not affected');
  });

  it(`one tenant takes ${PER_TENANT} registrations a minute, from any number of addresses`, async () => {
    const tenant = `reg-tenant-${randomBytes(3).toString('hex')}`;
    for (let i = 0; i < PER_TENANT; i++)
      assert.equal((await register(`198.51.100.${i + 1}`, tenant)).status, 201);
    const refused = await register('198.51.100.99', tenant);
    assert.deepEqual([refused.status, refused.code], [429, 'rate_limited']);
    const other = `reg-other-${randomBytes(3).toString('hex')}`;
    assert.equal((await register('198.51.100.98', other)).status, 201, 'another tenant is not affected');
  });

  it('failures from many addresses hold an account back, but not a login from a device it logged in from before', async () => {
    const tenant = `login-dev-${randomBytes(3).toString('hex')}`;
    const owner = await register('192.0.2.50', tenant);
    const other = await register('192.0.2.51', tenant);
    const known = await login(tenant, owner.name, '192.0.2.50');
    assert.equal(known.status, 200);
    assert.match(known.deviceToken ?? '', /^dev1\./, 'a login hands the device a token');
    const othersDevice = (await login(tenant, other.name, '192.0.2.51')).deviceToken;

    // strangers guess from several addresses, each below its own per-address limits
    for (let i = 1; i <= ACCOUNT_LOCK_AFTER; i++)
      assert.equal((await login(tenant, owner.name, `198.51.100.${i}`, 'wrong-password')).status, 401);
    assert.equal((await login(tenant, owner.name, '192.0.2.60')).code, 'rate_limited', 'the account waits');
    for (const token of [othersDevice, 'dev1.not-a-device-token', `${known.deviceToken}x`])
      assert.equal(
        (await login(tenant, owner.name, '192.0.2.60', PASSWORD, token)).code,
        'rate_limited',
        'another user’s or a made-up device token is no key',
      );
    const again = await login(tenant, owner.name, '192.0.2.60', PASSWORD, known.deviceToken);
    assert.equal(again.status, 200, 'the owner’s device logs in');
    assert.match(again.deviceToken ?? '', /^dev1\./);
    assert.equal(
      (await login(tenant, owner.name, '192.0.2.60', PASSWORD, known.deviceToken)).code,
      'rate_limited',
      'a token works once',
    );
    // whoever lifts the device's token gets one guess past the lock with it, not a way around it
    assert.equal(
      (await login(tenant, owner.name, '203.0.113.9', 'wrong-password', again.deviceToken)).status,
      401,
    );
    assert.equal(
      (await login(tenant, owner.name, '203.0.113.10', 'wrong-password', again.deviceToken)).code,
      'rate_limited',
    );
  });

  it('a user disabled (then enabled again) or whose second factor was reset: its devices are strangers again', async () => {
    const tenant = `login-forget-${randomBytes(3).toString('hex')}`;
    const admin = new ImClient(platform.gatewayUrl(), tenant);
    await admin.register(username('admin'), PASSWORD); // the tenant's first user runs it
    for (const [i, change] of [
      [1, [{ disabled: true }, { disabled: false }]],
      [2, [{ resetMfa: true }]],
    ] as const) {
      const user = await register(`192.0.2.7${i}`, tenant);
      const device = (await login(tenant, user.name, `192.0.2.7${i}`)).deviceToken;
      assert.match(device ?? '', /^dev1\./);
      const { user: found } = await admin.call<{ user: { id: string } }>(
        'GET',
        `/v1/users/by-username/${user.name}`,
      );
      for (const body of change) await admin.call('PATCH', `/v1/tenant/users/${found.id}`, body);
      for (let n = 1; n <= ACCOUNT_LOCK_AFTER; n++)
        assert.equal((await login(tenant, user.name, `198.51.10${i}.${n}`, 'wrong-password')).status, 401);
      assert.equal(
        (await login(tenant, user.name, `192.0.2.7${i}`, PASSWORD, device)).code,
        'rate_limited',
        `${JSON.stringify(change)}: the device's token no longer lifts the lock`,
      );
    }
  });
});
