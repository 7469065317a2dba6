import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ImSocket, type ImClient } from '@im/sdk';
import { Platform } from '@im/testing';
import { registerUsers } from './support/users.js';

// Random frames and bodies against the real gateway: whatever arrives, the answer is an ack or an
// error with a stable code (never `internal`, never a 5xx), the socket and the process live on,
// and only acknowledged sends are stored. FUZZ_RUNS raises the count (load-tests/ runs longer).
const RUNS = Number(process.env.FUZZ_RUNS ?? 2_000);
const unlimited = { SEND_RATE_PER_SEC: '100000', SEND_BURST: '100000' };

/** Codes a refusal may carry (docs/protocol.md); anything else is a finding. */
const STABLE = new Set([
  'invalid_argument',
  'invalid_json',
  'unknown_type',
  'payload_too_large',
  'not_found',
  'forbidden',
  'rate_limited',
  'limit_exceeded',
  'conflict',
  'edit_window_closed',
  'invalid_token',
  'token_expired',
  'session_revoked',
]);

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

  before(async () => {
    platform = await Platform.start({ env: { gateway: unlimited } });
    const [a, b] = await registerUsers(platform, 2, 'fuzz');
    alice = a!;
    conversationId = (await alice.createConversation('direct', [b!.user.id])).id;
  });
  after(() => platform?.stop());

  /** Field values: mostly junk, sometimes plausible, so some frames get past validation. */
  const value = (): fc.Arbitrary<unknown> =>
    fc.oneof(
      fc.constant(conversationId),
      fc.constantFrom(1, 2, 0, -1, 2 ** 53, 1.5),
      fc.constantFrom('👍', ':ok:', 'online', 'away', 'offline', 'x'.repeat(5_000)),
      fc.string({ maxLength: 40 }),
      fc.anything({ maxDepth: 2 }),
    );
  const frame = (): fc.Arbitrary<Record<string, unknown>> =>
    fc.record(
      {
        type: fc.constantFrom(...FRAME_TYPES),
        conversationId: value(),
        seq: value(),
        text: value(),
        clientMsgId: fc.oneof(fc.uuid(), value()),
        emoji: value(),
        userIds: fc.oneof(fc.array(fc.string({ maxLength: 30 }), { maxLength: 5 }), value()),
        status: value(),
        conversations: fc.oneof(
          fc.array(fc.record({ conversationId: value(), afterSeq: value() }), { maxLength: 3 }),
          value(),
        ),
        limit: value(),
        token: value(),
        replyTo: value(),
        mentions: value(),
        attachments: value(),
      },
      { requiredKeys: ['type'] },
    );

  it(`${RUNS} random WebSocket frames: each answered with an ack or a stable error; only acked sends stored`, async () => {
    const socket = await ImSocket.connect(platform.wsUrl(), alice.session!.accessToken);
    const stored = new Set<string>();
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
            const answer = await socket.request(String(f.type), { ...f }, id).then(
              (ack) => ({ ok: true as const, ack }),
              (err: { code?: string }) => ({ ok: false as const, code: err.code ?? 'none' }),
            );
            if (answer.ok) {
              if (f.type === 'message.send' && answer.ack.message) stored.add(answer.ack.message.id);
              return;
            }
            codes.set(answer.code, (codes.get(answer.code) ?? 0) + 1);
            assert.ok(
              STABLE.has(answer.code),
              `frame ${JSON.stringify(f).slice(0, 300)} got "${answer.code}"`,
            );
          },
        ),
        { numRuns: RUNS },
      );
      assert.ok(socket.isOpen, 'the socket survived every frame');
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
    assert.ok(platform.gateways[0]!.running, 'the gateway lives');
    assert.ok((codes.get('invalid_argument') ?? 0) > 0, `refusals seen: ${JSON.stringify([...codes])}`);
  });

  it('random REST bodies and queries: never a 5xx, errors in the stable shape', async () => {
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
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.oneof(fc.object({ maxDepth: 2 }), fc.anything({ maxDepth: 2 }), fc.string()),
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
          assert.ok(
            res.status < 500,
            `${method} ${path} ${JSON.stringify(body)?.slice(0, 200)} → ${res.status}`,
          );
          if (res.status >= 400)
            assert.ok(json?.error?.code && STABLE.has(json.error.code), JSON.stringify(json));
        },
      ),
      { numRuns: Math.ceil(RUNS / 4) },
    );
  });
});
