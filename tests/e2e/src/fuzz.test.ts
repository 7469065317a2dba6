import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ERROR_CODES } from '@im/platform/errors';
import { ImSocket, type ImClient } from '@im/sdk';
import { Platform } from '@im/testing';
import { registerUsers } from './support/users.js';

// Random frames and bodies against the real gateway: whatever arrives, the answer is an ack or an
// error with a stable code (never `internal`, never a 5xx), the socket and the process live on,
// and only acknowledged sends are stored. FUZZ_RUNS raises the count (load-tests/fuzz.sh runs longer).
const RUNS = Number(process.env.FUZZ_RUNS ?? 2_000);
const unlimited = { SEND_RATE_PER_SEC: '100000', SEND_BURST: '100000' };

/** Codes a refusal may carry (docs/protocol.md): every stable code but `internal`, which is a finding. */
const STABLE = new Set(Object.keys(ERROR_CODES).filter((c) => c !== 'internal'));

const FRAME_TYPES = [
  'message.send',
  'message.edit',
  'message.delete',
  'reaction.add',
  'reaction.remove',
  'read',
  'typing',
  'presence.set',
  'presence.subscribe',
  'sync',
  'ping',
  'auth.refresh',
  'auth',
  'nonsense.type',
];

describe('fuzz: random frames and bodies change nothing they should not, and never break the gateway', () => {
  let platform: Platform;
  let alice: ImClient;
  let conversationId: string;
  let bobId: string;

  before(async () => {
    platform = await Platform.start({ env: { gateway: unlimited } });
    // alice runs a tenant of her own (its first user), so tenant routes change things too
    const tenant = `fuzz-${randomBytes(4).toString('hex')}`;
    const [a] = await registerUsers(platform, 1, 'fuzz', tenant);
    const [b] = await registerUsers(platform, 1, 'fuzz', tenant);
    alice = a!;
    bobId = b!.user.id;
    conversationId = (await alice.createConversation('group', [bobId], 'fuzz')).id;
    // messages for edits, deletes, reactions and replies to land on
    for (let i = 1; i <= 5; i++) await alice.sendMessage(conversationId, `seed-${i}`, `seed ${i}`);
  });
  after(() => platform?.stop());

  /** A crashed service would only answer `unavailable`, a stable code: the processes are checked too. */
  function assertEveryProcessLives(): void {
    const processes = [...platform.gateways, ...platform.services.values(), ...platform.replicas];
    assert.deepEqual(
      processes.filter((p) => !p.running).map((p) => `${p.name}: ${p.tail()}`),
      [],
      'every service process lives',
    );
  }

  /** A field: most often a valid value (so frames get past validation into the services), else junk. */
  const field = (good: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
    fc.oneof(
      { weight: 8, arbitrary: good },
      {
        weight: 2,
        arbitrary: fc.oneof(
          fc.constant(undefined),
          fc.constantFrom(0, -1, 2 ** 53, 1.5, '', 'x'.repeat(5_000), null, [], {}),
          fc.string({ maxLength: 40 }),
          fc.anything({ maxDepth: 2 }),
        ),
      },
    );
  const frame = (): fc.Arbitrary<Record<string, unknown>> =>
    fc.record({
      type: fc.oneof(
        { weight: 5, arbitrary: fc.constant('message.send') },
        { weight: 10, arbitrary: fc.constantFrom(...FRAME_TYPES) },
      ),
      conversationId: field(fc.constant(conversationId)),
      seq: field(fc.integer({ min: 1, max: 100 })),
      text: field(fc.string({ minLength: 1, maxLength: 60 })),
      clientMsgId: field(fc.uuid()),
      emoji: field(fc.constantFrom('👍', '❤️', ':ok:', '🎉')),
      userIds: field(fc.constant([bobId])),
      status: field(fc.constantFrom('online', 'away', 'busy')),
      conversations: field(
        fc.array(fc.record({ conversationId: fc.constant(conversationId), afterSeq: fc.nat(5) }), {
          maxLength: 2,
        }),
      ),
      limit: field(fc.integer({ min: 1, max: 100 })),
      token: field(fc.string({ maxLength: 60 })),
      replyTo: field(fc.constantFrom(undefined, 1, 2)),
      mentions: field(fc.constantFrom([], [bobId])),
      attachments: field(fc.constant([])),
    });

  it(`${RUNS} random WebSocket frames: each answered with an ack or a stable error; a refused one changes nothing; only acked sends stored`, async () => {
    const socket = await ImSocket.connect(platform.wsUrl(), alice.session!.accessToken);
    // what frames can change (the frames name seqs 1..100). One changing frame in four is checked
    // (a read before it when the last read is out of date, and one after it when refused): every
    // frame would add about 25 s to CI; the long run in load-tests/ checks many more
    const changing = new Set([
      'message.send',
      'message.edit',
      'message.delete',
      'reaction.add',
      'reaction.remove',
      'read',
    ]);
    const conversationState = async () =>
      JSON.stringify(
        await Promise.all([
          alice.call('GET', `/v1/conversations/${conversationId}`),
          alice.call('GET', `/v1/conversations/${conversationId}/messages?afterSeq=0&limit=100`),
        ]),
      );
    let known: string | undefined;
    let refusalsChecked = 0;
    const stored = new Set((await alice.allMessages(conversationId)).map((m) => m.id));
    const acked = new Map<string, number>();
    const codes = new Map<string, number>();
    let n = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof({ weight: 9, arbitrary: frame() }, { weight: 1, arbitrary: fc.string() }),
          async (f) => {
            const id = `fz-${n++}`;
            if (typeof f === 'string') {
              socket.sendRaw(f); // not a frame at all: an error without an id, the socket stays
              return;
            }
            const mayChange = changing.has(String(f.type));
            const checked = mayChange && n % 4 === 0;
            if (checked) known ??= await conversationState();
            const answer = await socket.request(String(f.type), { ...f }, id).then(
              (ack) => ({ ok: true as const, ack }),
              (err: { code?: string }) => ({ ok: false as const, code: err.code ?? 'none' }),
            );
            if (answer.ok) {
              if (mayChange) known = undefined;
              acked.set(String(f.type), (acked.get(String(f.type)) ?? 0) + 1);
              if (f.type === 'message.send' && answer.ack.message) stored.add(answer.ack.message.id);
              return;
            }
            codes.set(answer.code, (codes.get(answer.code) ?? 0) + 1);
            if (checked) {
              refusalsChecked++;
              assert.equal(
                await conversationState(),
                known,
                `frame ${JSON.stringify(f).slice(0, 300)} was refused (${answer.code}), yet changed the conversation`,
              );
            }
            assert.ok(
              STABLE.has(answer.code),
              `frame ${JSON.stringify(f).slice(0, 300)} got "${answer.code}"`,
            );
          },
        ),
        { numRuns: RUNS },
      );
      assert.ok(socket.isOpen, 'the socket survived every frame');
      assert.ok(refusalsChecked > RUNS / 100, `refused changes checked: ${refusalsChecked}`);
      await socket.request('ping');
      const history = await alice.allMessages(conversationId);
      assert.deepEqual(
        new Set(history.map((m) => m.id)),
        stored,
        'exactly the acknowledged sends are stored',
      );
    } finally {
      await socket.close();
    }
    assertEveryProcessLives();
    // the run went deep, not only into validation: valid frames of each kind were carried out
    const seen = JSON.stringify({ acked: [...acked], refused: [...codes] });
    for (const type of ['message.send', 'message.delete', 'sync', 'read', 'typing'])
      assert.ok((acked.get(type) ?? 0) >= (RUNS >= 2_000 ? 3 : 1), `${type} acked: ${seen}`);
    for (const type of ['message.edit', 'reaction.add'])
      assert.ok((acked.get(type) ?? 0) >= 1, `${type} acked: ${seen}`);
    assert.ok((codes.get('invalid_argument') ?? 0) > 0, seen);
  });

  /** Everything the REST routes below can change, as the caller reads it. */
  async function state(): Promise<unknown> {
    const get = (path: string) => alice.call('GET', path);
    const conv = `/v1/conversations/${conversationId}`;
    const [conversation, messages, pins, list, devices, settings, webhooks, users, mfa, tenant] =
      await Promise.all([
        get(conv),
        get(`${conv}/messages?limit=100`),
        get(`${conv}/pins`),
        get('/v1/conversations?limit=100'),
        get('/v1/devices'),
        get('/v1/me/notification-settings'),
        get('/v1/webhooks'),
        get('/v1/tenant/users'),
        get('/v1/users/me/mfa'),
        alice.call('PATCH', '/v1/tenant', {}), // the tenant's settings (no GET; an empty change)
      ]);
    return { conversation, messages, pins, list, devices, settings, webhooks, users, mfa, tenant };
  }

  it('random REST bodies and queries: never a 5xx, errors in the stable shape, and a refusal changes nothing', async () => {
    let last = await state();
    let refused = 0;
    const routes: Array<[string, string]> = [
      ['POST', '/v1/conversations'],
      ['POST', `/v1/conversations/${conversationId}/messages`],
      ['PATCH', `/v1/conversations/${conversationId}`],
      ['POST', `/v1/conversations/${conversationId}/read`],
      ['PUT', '/v1/me/notification-settings'],
      ['POST', '/v1/devices'],
      ['POST', '/v1/media/uploads'],
      ['POST', '/v1/auth/refresh'],
      ['POST', '/v1/webhooks'],
      ['PATCH', `/v1/conversations/${conversationId}/messages/1`],
      ['PUT', `/v1/conversations/${conversationId}/messages/2/reactions/%F0%9F%91%8D`],
      ['PUT', `/v1/conversations/${conversationId}/pins/1`],
      ['POST', `/v1/conversations/${conversationId}/members`],
      ['POST', '/v1/auth/register'],
      ['POST', '/v1/auth/login'],
      ['POST', '/v1/auth/mfa'],
      ['POST', '/v1/auth/email-invites'],
      ['PATCH', '/v1/tenant'],
      ['POST', '/v1/tenant/invites'],
      ['PATCH', `/v1/tenant/users/${bobId}`],
      ['POST', '/v1/users/me/mfa/totp/confirm'],
      ['POST', '/v1/bots'],
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.oneof(
          fc.object({ maxDepth: 2 }),
          fc.anything({ maxDepth: 2 }),
          fc.string(),
          // the routes' own field names, mostly valid values
          fc.record(
            {
              clientMsgId: field(fc.uuid()),
              text: field(fc.string({ minLength: 1, maxLength: 40 })),
              type: field(fc.constantFrom('direct', 'group', 'channel')),
              memberIds: field(fc.constant([bobId])),
              title: field(fc.string({ maxLength: 20 })),
              seq: field(fc.integer({ min: 1, max: 5 })),
              platform: field(fc.constantFrom('apns', 'fcm', 'webpush')),
              token: field(fc.stringMatching(/^[0-9a-f]{64}$/)),
              filename: field(fc.constantFrom('a.txt', 'b.png')),
              contentType: field(fc.constantFrom('text/plain', 'image/png')),
              size: field(fc.integer({ min: 1, max: 1_000 })),
              readReceipts: field(fc.boolean()),
              previews: field(fc.constantFrom('full', 'sender', 'none')),
              tenant: field(fc.constantFrom('', 'default', 'no-such-tenant')),
              username: field(fc.string({ minLength: 1, maxLength: 70 })),
              password: field(fc.string({ minLength: 1, maxLength: 40 })),
              email: field(fc.constantFrom('bob@example.com', 'not-an-address', 'a@b')),
              emailDomains: field(
                fc.array(fc.constantFrom('example.com', 'bad domain', 'x'), { maxLength: 3 }),
              ),
              registration: field(fc.constantFrom('open', 'invite', 'sometimes')),
              groupAdds: field(fc.constantFrom('anyone', 'consent')),
              role: field(fc.constantFrom('member', 'admin', 'owner')),
              disabled: field(fc.boolean()),
              code: field(fc.stringMatching(/^[0-9]{6}$/)),
              mfaToken: field(fc.string({ maxLength: 20 })),
              userIds: field(fc.constant([bobId])),
              url: field(fc.constantFrom('https://example.com/hook', 'http://127.0.0.1/x', 'nope')),
              events: field(fc.constantFrom(['message.created'], ['nope'])),
            },
            { requiredKeys: [] },
          ),
        ),
        async ([method, path], body) => {
          const res = await fetch(`${platform.gatewayUrl()}${path}`, {
            method,
            headers: {
              authorization: `Bearer ${alice.session!.accessToken}`,
              'content-type': 'application/json',
            },
            body: typeof body === 'string' ? body : JSON.stringify(body),
          });
          const json = (await res.json().catch(() => undefined)) as { error?: { code?: string } } | undefined;
          // the one 5xx by design: this platform has no mail server for email invites
          const noMail = path === '/v1/auth/email-invites' && res.status === 503;
          assert.ok(
            res.status < 500 || (noMail && json?.error?.code === 'unavailable'),
            `${method} ${path} ${JSON.stringify(body)?.slice(0, 200)} → ${res.status} ${JSON.stringify(json)}`,
          );
          if (res.status >= 400)
            assert.ok(json?.error?.code && STABLE.has(json.error.code), JSON.stringify(json));
          const now = await state();
          if (res.status >= 400) {
            refused++;
            assert.deepEqual(
              now,
              last,
              `${method} ${path} ${JSON.stringify(body)?.slice(0, 200)} was refused (${res.status}), yet changed what the caller reads`,
            );
          }
          last = now;
        },
      ),
      { numRuns: Math.ceil(RUNS / 4) },
    );
    assert.ok(refused > RUNS / 20, `refusals checked: ${refused}`);
    assertEveryProcessLives();
  });
});
