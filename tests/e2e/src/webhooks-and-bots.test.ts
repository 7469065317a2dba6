import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ImClient } from '@im/sdk';
import { eventually, Platform, sleep } from '@im/testing';
import { outcome } from './support/outcome.js';
import { registerUsers } from './support/users.js';

const RETRY_FOR_SECONDS = 4;

interface Delivery {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

/** A webhook receiver: /ok answers 200, /flaky 500 twice per event then 200, /down always 500. */
class Receiver {
  readonly deliveries: Delivery[] = [];
  private server: Server | undefined;
  base = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '';
        const eventId = String(req.headers['x-im-event-id']);
        const before = this.deliveries.filter(
          (d) => d.path === path && d.headers['x-im-event-id'] === eventId,
        );
        const status = path.startsWith('/ok')
          ? 200
          : path.startsWith('/flaky') && before.length >= 2
            ? 200
            : 500;
        this.deliveries.push({
          path,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          status,
        });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }

  at(path: string): Delivery[] {
    return this.deliveries.filter((d) => d.path === path);
  }
}

/** What a receiver does with `x-im-signature`: recompute the HMAC, check the timestamp. */
function verifies(secret: string, d: Delivery): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(d.headers['x-im-signature']));
  if (!m) return false;
  const expected = createHmac('sha256', secret).update(`${m[1]}.${d.body}`).digest();
  const fresh = Math.abs(Date.now() / 1000 - Number(m[1])) < 300;
  return fresh && timingSafeEqual(expected, Buffer.from(m[2]!, 'hex'));
}

describe('webhooks and bots (tenant admins; signed, retried, dead-lettered; API keys)', () => {
  let platform: Platform;
  const receiver = new Receiver();

  before(async () => {
    await receiver.start();
    platform = await Platform.start({
      env: {
        notification: {
          WEBHOOK_ALLOW_HTTP_LOOPBACK: 'true',
          WEBHOOK_RETRY_FOR_SECONDS: String(RETRY_FOR_SECONDS),
        },
      },
    });
  });
  after(async () => {
    await platform?.stop();
    await receiver.stop();
  });

  it('an admin’s webhook gets member.joined and every message.created, signed and in order; members may not manage webhooks', async () => {
    // the first user of a tenant made by registering is its admin (development mode of the harness)
    const tenant = `hooks-${Date.now().toString(36)}`;
    const [admin] = await registerUsers(platform, 1, 'hookadmin', tenant);
    const [member] = await registerUsers(platform, 1, 'hookmember', tenant);
    const path = `/ok/${tenant}`;
    const created = await admin!.call<{ webhook: { id: string; events: string[] }; secret: string }>(
      'POST',
      '/v1/webhooks',
      { url: `${receiver.base}${path}`, events: ['message.created', 'member.joined'] },
    );
    assert.match(created.secret, /^whsec_/);
    for (const body of [
      { url: 'http://10.0.0.8/hook', events: ['message.created'] },
      { url: 'https://169.254.169.254/latest', events: ['message.created'] },
      { url: `${receiver.base}/ok`, events: ['message.exploded'] },
      { url: `${receiver.base}/ok`, events: [] },
      { url: 'not a url', events: ['message.created'] },
    ])
      assert.equal(
        await outcome(admin!.call('POST', '/v1/webhooks', body)),
        '400 invalid_argument',
        JSON.stringify(body),
      );
    assert.equal(
      await outcome(
        member!.call('POST', '/v1/webhooks', { url: `${receiver.base}/ok`, events: ['message.created'] }),
      ),
      '403 forbidden',
    );
    assert.equal(await outcome(member!.call('GET', '/v1/webhooks')), '403 forbidden');
    const [stranger] = await registerUsers(platform, 1, 'hookstranger', `other-${tenant}`);
    assert.equal(
      await outcome(stranger!.call('DELETE', `/v1/webhooks/${created.webhook.id}`)),
      '404 not_found',
    );
    const listed = await admin!.call<{ webhooks: Array<Record<string, unknown>> }>('GET', '/v1/webhooks');
    assert.equal(listed.webhooks.length, 1);
    assert.equal('secret' in listed.webhooks[0]!, false, 'the secret is shown once');

    const group = await admin!.createConversation('group', [member!.user.id], 'hooked');
    for (let i = 1; i <= 10; i++) await member!.sendMessage(group.id, `h-${i}`, `hello ${i}`);
    const got = await eventually(
      () => {
        const messages = receiver.at(path).filter((d) => d.headers['x-im-event-type'] === 'message.created');
        assert.equal(messages.length, 10);
        return receiver.at(path);
      },
      { timeoutMs: 20_000 },
    );
    for (const d of got) assert.ok(verifies(created.secret, d), 'signature');
    assert.equal(verifies('whsec_wrong', got[0]!), false);
    const events = got.map(
      (d) => JSON.parse(d.body) as { type: string; data: { message?: { seq: number } } },
    );
    assert.equal(events[0]!.type, 'member.joined');
    assert.deepEqual(
      events.filter((e) => e.type === 'message.created').map((e) => Number(e.data.message!.seq)),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
  });

  it('a failing receiver gets the delivery again until it answers 200; one that never does is dead-lettered', async () => {
    const tenant = `hooks2-${Date.now().toString(36)}`;
    // one after the other: the first user of the new tenant is its admin
    const [admin] = await registerUsers(platform, 1, 'hookretry', tenant);
    const [member] = await registerUsers(platform, 1, 'hookretry', tenant);
    const flaky = `/flaky/${tenant}`;
    const down = `/down/${tenant}`;
    await admin!.call('POST', '/v1/webhooks', {
      url: `${receiver.base}${flaky}`,
      events: ['message.created'],
    });
    const dead = await admin!.call<{ webhook: { id: string } }>('POST', '/v1/webhooks', {
      url: `${receiver.base}${down}`,
      events: ['message.created'],
    });
    const group = await admin!.createConversation('group', [member!.user.id], 'retries');
    const m = await member!.sendMessage(group.id, 'r-1', 'try me');

    await eventually(
      () =>
        assert.deepEqual(
          receiver.at(flaky).map((d) => d.status),
          [500, 500, 200],
        ),
      {
        timeoutMs: 20_000,
      },
    );
    const letters = await eventually(
      async () => {
        const { deadLetters } = await admin!.call<{
          deadLetters: Array<{
            eventType: string;
            conversationId: string;
            attempts: number;
            lastError: string;
          }>;
        }>('GET', `/v1/webhooks/${dead.webhook.id}/dead-letters`);
        assert.equal(deadLetters.length, 1);
        return deadLetters;
      },
      { timeoutMs: 30_000 },
    );
    assert.equal(letters[0]!.eventType, 'message.created');
    assert.equal(letters[0]!.conversationId, group.id);
    assert.equal(letters[0]!.lastError, 'HTTP 500');
    assert.equal(letters[0]!.attempts, receiver.at(down).length);
    assert.ok(letters[0]!.attempts >= 2);
    assert.equal(JSON.parse(receiver.at(down)[0]!.body).data.message.seq, Number(m.seq));

    await admin!.call('DELETE', `/v1/webhooks/${dead.webhook.id}`);
    const before = receiver.at(down).length;
    await member!.sendMessage(group.id, 'r-2', 'after the delete');
    await eventually(() => assert.equal(receiver.at(flaky).filter((d) => d.status === 200).length, 2));
    await sleep(500);
    assert.equal(receiver.at(down).length, before, 'a deleted webhook gets nothing');
  });

  it('a bot sends and reads with its API key in its conversations only; rotated and revoked keys are refused; bots never log in', async () => {
    const tenant = `bots-${Date.now().toString(36)}`;
    const [admin] = await registerUsers(platform, 1, 'botadmin', tenant);
    const [member] = await registerUsers(platform, 1, 'botmember', tenant);
    assert.equal(
      await outcome(member!.call('POST', '/v1/bots', { username: 'not-allowed-bot' })),
      '403 forbidden',
    );
    const made = await admin!.call<{ bot: { id: string; username: string }; apiKey: string }>(
      'POST',
      '/v1/bots',
      {
        username: 'helper-bot',
        displayName: 'Helper',
      },
    );
    assert.match(made.apiKey, /^imk1\./);
    assert.equal(
      await outcome(admin!.call('POST', '/v1/bots', { username: 'helper-bot' })),
      '409 username_taken',
    );
    assert.equal(await outcome(admin!.call('POST', '/v1/bots', { username: 'x' })), '400 invalid_argument');

    const asBot = async (key: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${platform.gatewayUrl()}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      const json = text ? (JSON.parse(text) as { error?: { code: string } } & Record<string, unknown>) : {};
      return { status: res.status, code: json.error?.code ?? '', json };
    };

    const group = await admin!.createConversation('group', [member!.user.id, made.bot.id], 'with a bot');
    const other = await admin!.createConversation('group', [member!.user.id], 'without');
    const sent = await asBot(made.apiKey, 'POST', `/v1/conversations/${group.id}/messages`, {
      clientMsgId: 'bot-1',
      text: 'beep boop',
    });
    assert.equal(sent.status, 201, JSON.stringify(sent.json));
    const seen = await member!.allMessages(group.id);
    assert.deepEqual(
      seen.map((m) => [m.senderId, m.text]),
      [[made.bot.id, 'beep boop']],
    );
    const history = await asBot(made.apiKey, 'GET', `/v1/conversations/${group.id}/messages`);
    assert.equal(history.status, 200);
    assert.equal((await asBot(made.apiKey, 'GET', `/v1/conversations/${other.id}/messages`)).status, 404);
    assert.equal((await asBot(made.apiKey, 'POST', '/v1/tenant/invites', {})).code, 'forbidden');
    assert.equal(
      await outcome(new ImClient(platform.gatewayUrl(), tenant).login('helper-bot', 'anything at all')),
      '401 invalid_credentials',
    );

    const rotated = await admin!.call<{ apiKey: string }>('POST', `/v1/bots/${made.bot.id}/keys`);
    await eventually(async () =>
      assert.equal((await asBot(made.apiKey, 'GET', '/v1/conversations')).status, 401),
    );
    assert.equal((await asBot(rotated.apiKey, 'GET', '/v1/conversations')).status, 200);
    assert.equal((await asBot('imk1.' + 'A'.repeat(43), 'GET', '/v1/conversations')).code, 'invalid_token');

    await admin!.call('DELETE', `/v1/bots/${made.bot.id}/keys`);
    await eventually(async () =>
      assert.equal((await asBot(rotated.apiKey, 'GET', '/v1/conversations')).status, 401),
    );
    assert.equal(
      await outcome(admin!.call('POST', `/v1/bots/${member!.user.id}/keys`)),
      '404 not_found',
      'not a bot',
    );
  });
});
