import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { CassandraClient } from '@im/platform/cassandra';
import { ImClient, TenantAdmin } from '@im/sdk';
import { eventually, Platform } from '@im/testing';
import { imAdmin } from './support/im-admin.js';
import { serviceKeyspace } from './support/keyspace.js';
import { LocalSmtp } from './support/local-smtp.js';
import { outcome } from './support/outcome.js';
import { PASSWORD, username } from './support/users.js';

/** Far longer than auth's retries of a mail server in trouble (1 s, then 2 s): a kept wait shows. */
const RESEND_SEC = 60;

interface Tenant {
  emailDomains: string[];
}

describe('joining a tenant by a verified email address at a domain its admins allow', () => {
  let platform: Platform;
  let authDb: CassandraClient;
  const smtp = new LocalSmtp();

  before(async () => {
    await smtp.start();
    platform = await Platform.start({
      env: {
        auth: {
          AUTH_ALLOW_TENANT_CREATION: 'false',
          SMTP_URL: smtp.url,
          MAIL_FROM: 'Chat <no-reply@chat.example>',
          AUTH_EMAIL_RESEND_SEC: String(RESEND_SEC),
        },
      },
    });
    authDb = await serviceKeyspace(platform, 'auth');
  });
  after(async () => {
    await authDb?.shutdown();
    await platform?.stop();
    await smtp.stop();
  });

  const client = (tenant?: string) => new ImClient(platform.gatewayUrl(), tenant);

  /** A closed tenant made by an operator (im-admin), with its first admin registered. */
  async function closedTenant(): Promise<{ name: string; admin: ImClient }> {
    const name = `initech-${randomBytes(5).toString('hex')}`;
    const made = await imAdmin(platform, ['create-tenant', name]);
    assert.equal(made.code, 0, made.err);
    const admin = client(name);
    await admin.register(username('admin'), PASSWORD, undefined, made.out.adminInvite as string);
    return { name, admin };
  }

  /** The invite in the one mail `address` received (waits for it). */
  async function mailedInvite(address: string, count = 1): Promise<string> {
    const mails = await eventually(() => {
      const got = smtp.to(address);
      assert.equal(got.length, count, `mails to ${address}`);
      return got;
    });
    const mail = mails.at(-1)!;
    assert.equal(mail.user, smtp.user, 'auth logged in to the mail server');
    assert.match(mail.subject, /invite/i);
    return /(inv1\.\S+)/.exec(mail.text)![1]!;
  }

  /** Invites stored for the address (spent or not), read from auth's keyspace. */
  const invitesTo = async (address: string) =>
    (await authDb.execute('SELECT code_hash FROM invites WHERE email = ? ALLOW FILTERING', [address])).rows
      .length;

  const unique = (local: string) => `${local}-${randomBytes(4).toString('hex')}`;

  it('a tenant admin sets the domains; bad ones change nothing; members and strangers cannot', async () => {
    const { admin } = await closedTenant();
    const admins = new TenantAdmin(admin);
    const set = await admins.updateTenant({
      emailDomains: ['Initech.example', 'eu.initech.example', 'initech.example'],
    });
    assert.deepEqual((set as unknown as Tenant).emailDomains, ['eu.initech.example', 'initech.example']);
    for (const bad of [
      ['not a domain'],
      ['initech'],
      ['*.initech.example'],
      Array.from({ length: 51 }, (_, i) => `d${i}.example`),
    ])
      assert.equal(await outcome(admins.updateTenant({ emailDomains: bad })), '400 invalid_argument', bad[0]);
    assert.equal(
      await outcome(admin.call('PATCH', '/v1/tenant', { emailDomains: 'initech.example' })),
      '400 invalid_argument',
    );
    const now = (await admins.updateTenant({})) as unknown as Tenant;
    assert.deepEqual(now.emailDomains, ['eu.initech.example', 'initech.example'], 'nothing changed');

    const stranger = (await closedTenant()).admin;
    await new TenantAdmin(stranger).updateTenant({ emailDomains: ['globex.example'] });
    assert.deepEqual(((await admins.updateTenant({})) as unknown as Tenant).emailDomains, now.emailDomains);
  });

  it('an address at an allowed domain is mailed an invite that registers it once; other domains, unknown tenants and a second mail at once are refused, with nothing mailed', async () => {
    const { name, admin } = await closedTenant();
    await new TenantAdmin(admin).updateTenant({ emailDomains: ['initech.example'] });
    const local = unique('bob');
    const address = `${local}@initech.example`;

    const asked = await client(name).requestEmailInvite(`  ${local.toUpperCase()}@Initech.EXAMPLE `);
    assert.ok(Date.parse(asked.expiresAt) > Date.now() + 3_000_000, 'valid for about an hour');
    const invite = await mailedInvite(address);
    assert.equal(
      await outcome(client(name).requestEmailInvite(address)),
      '429 rate_limited',
      'one mail per address per interval',
    );

    const bob = client(name);
    await bob.register(username('bob'), PASSWORD, 'Bob', invite);
    assert.equal(
      await outcome(client(name).register(username('again'), PASSWORD, undefined, invite)),
      '403 invalid_invite',
      'single use',
    );
    const { users } = await admin.call<{
      users: Array<{ user: { id: string }; role: string; email: string }>;
    }>('GET', '/v1/tenant/users');
    const listed = users.find((u) => u.user.id === bob.user.id)!;
    assert.deepEqual([listed.role, listed.email], ['member', address]);
    assert.equal(
      await outcome(new TenantAdmin(bob).updateTenant({ emailDomains: ['evil.example'] })),
      '403 forbidden',
      'members do not set the rule',
    );

    const before = smtp.received.length;
    for (const [tenant, email, expected] of [
      [name, `${unique('carol')}@globex.example`, '403 email_domain_not_allowed'],
      [name, `${unique('carol')}@eu.initech.example`, '403 email_domain_not_allowed'],
      [
        `nowhere-${randomBytes(4).toString('hex')}`,
        `${unique('carol')}@initech.example`,
        '403 email_domain_not_allowed',
      ],
      [name, 'not-an-address', '400 invalid_argument'],
      [name, `${unique('carol')}@initech.example\r\nBcc: x@globex.example`, '400 invalid_argument'],
    ] as const)
      assert.equal(await outcome(client(tenant).requestEmailInvite(email)), expected, email);
    // a mail asked for after the refusals arrives alone: none of them sent one
    const sentinel = `${unique('sentinel')}@initech.example`;
    await client(name).requestEmailInvite(sentinel);
    await mailedInvite(sentinel);
    assert.equal(smtp.received.length, before + 1, 'nothing was mailed for the refusals');
  });

  it('one account per address; a mailed invite dies with its domain rule; answered before the mail server is asked; a refused mailbox reads as any other; a mail server in trouble leaves nothing behind', async () => {
    const { name, admin } = await closedTenant();
    const admins = new TenantAdmin(admin);
    await admins.updateTenant({ emailDomains: ['initech.example'] });

    const dave = `${unique('dave')}@initech.example`;
    await client(name).requestEmailInvite(dave);
    const first = await mailedInvite(dave);
    // the address's wait, over as after AUTH_EMAIL_RESEND_SEC (a minute here; not waited for)
    await authDb.execute('DELETE FROM email_sends WHERE email = ?', [dave]);
    await client(name).requestEmailInvite(dave);
    const second = await mailedInvite(dave, 2);
    const names = [username('dave'), username('dave')];
    const results = await Promise.all(
      [first, second].map((invite, i) =>
        outcome(client(name).register(names[i]!, PASSWORD, undefined, invite)),
      ),
    );
    assert.deepEqual([...results].sort(), ['409 email_taken', 'ok'], 'one account per address');
    const { invite } = await admins.createInvite();
    const loser = names[results.indexOf('409 email_taken')]!;
    await client(name).register(loser, PASSWORD, undefined, invite); // the loser's name stayed free

    const erin = `${unique('erin')}@initech.example`;
    await client(name).requestEmailInvite(erin);
    const erinInvite = await mailedInvite(erin);
    await admins.updateTenant({ emailDomains: [] });
    assert.equal(
      await outcome(client(name).register(username('erin'), PASSWORD, undefined, erinInvite)),
      '403 invalid_invite',
      'the rule that let it be sent is gone',
    );
    assert.equal(
      await outcome(client(name).requestEmailInvite(`${unique('frank')}@initech.example`)),
      '403 email_domain_not_allowed',
    );

    await admins.updateTenant({ emailDomains: ['initech.example'] });
    // the answer does not wait for the mail server: a mailbox it is still deciding on is answered
    const held = `${unique('held')}@initech.example`;
    await client(name).requestEmailInvite(held);
    assert.equal(smtp.to(held).length, 0, 'answered before the mail went');
    await eventually(() => assert.equal(smtp.heldCount, 1, 'the mail server is still deciding'));
    smtp.releaseHeld();
    await mailedInvite(held);

    // a mailbox that does not exist reads like one that does (no list of a tenant's people), and
    // its address waits as any other; the invite is withdrawn
    const bounce = `${unique('bounce')}@initech.example`;
    const rejected = `${unique('rejected')}@initech.example`; // refused for good after the message
    // a mail server in trouble for now (451 each time): asked again twice, then given up on
    const deferred = `${unique('deferred')}@initech.example`;
    const asked = Date.now();
    for (const address of [bounce, rejected, deferred])
      assert.equal(await outcome(client(name).requestEmailInvite(address)), 'ok', address);
    await eventually(
      async () => {
        for (const address of [bounce, rejected, deferred])
          assert.equal(await invitesTo(address), 0, `no invite lives for ${address}`);
      },
      { timeoutMs: 20_000 },
    );
    // and each address waits like one that was mailed, so asking again tells nothing either
    for (const address of [bounce, rejected, deferred])
      assert.equal(await outcome(client(name).requestEmailInvite(address)), '429 rate_limited', address);
    assert.ok(Date.now() - asked < RESEND_SEC * 1000, 'asked again within the wait');
    assert.equal(await invitesTo(dave), 2, 'the query sees invites (the two of dave)');
    assert.equal(smtp.to(deferred).length, 0);
  });
});
