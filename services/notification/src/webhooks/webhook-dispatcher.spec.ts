import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Message } from '@im/proto/client/v1';
import { ConversationEvent } from '@im/proto/events/v1';
import { WebhookDispatcher } from './webhook-dispatcher.js';

const TOPIC = 'events';

/** A receiver on loopback that answers `status` and counts the deliveries of each event. */
let server: Server;
let url = '';
let status = 200;
const received: string[] = [];
/** The event ids of the deliveries answered 2xx. */
const delivered: string[] = [];

before(async () => {
  server = createServer((req, res) => {
    const id = String(req.headers['x-im-event-id']);
    received.push(id);
    if (status < 300) delivered.push(id);
    req.resume();
    req.on('end', () => res.writeHead(status).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

/** The dispatcher over a consumer stub that owns `owned` partitions of the events topic. */
function dispatcher(owned: number[]) {
  const assignment = { [TOPIC]: owned };
  const hook = {
    tenantId: 't',
    webhookId: 'w1',
    url,
    events: ['message.created'],
    secret: 's',
    createdAt: new Date(),
  };
  const d = new WebhookDispatcher(
    {} as never,
    { topics: { conversationEvents: TOPIC } } as never,
    { error: () => undefined, warn: () => undefined, info: () => undefined } as never,
    { WEBHOOK_ALLOW_HTTP_LOOPBACK: true, WEBHOOK_RETRY_FOR_SECONDS: 30, WEBHOOK_TIMEOUT_MS: 2_000 } as never,
    { ofTenant: async () => [hook] } as never,
    { deadLetter: async () => undefined } as never,
  );
  (d as unknown as { consumer: unknown }).consumer = { assignment };
  const handle = (eventId: string) =>
    (d as unknown as { handle(b: unknown): Promise<void> }).handle({
      partition: 0,
      messages: [
        {
          offset: '1',
          value: Buffer.from(
            ConversationEvent.encode({
              eventId,
              conversationId: 'c',
              tenantId: 't',
              occurredAt: new Date().toISOString(),
              event: {
                $case: 'messageCreated',
                value: {
                  message: { ...Message.decode(new Uint8Array()), seq: 1, text: 'hi' },
                  conversationType: 'group',
                },
              },
            }).finish(),
          ),
        },
      ],
      isStopping: () => false,
      heartbeat: async () => undefined,
    });
  const pending = () => (d as unknown as { pending: Map<number, number> }).pending.size;
  return { handle, assignment, pending };
}

const until = async (ok: () => boolean, ms = 2_000) => {
  for (const end = Date.now() + ms; Date.now() < end && !ok();) await new Promise((r) => setTimeout(r, 10));
};

describe('WebhookDispatcher', () => {
  it('delivers an event handled twice (a retried batch, a replay) once', async () => {
    status = 200;
    const { handle } = dispatcher([0]);
    await handle('e-twice');
    await handle('e-twice');
    await until(() => received.includes('e-twice'));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(received.filter((id) => id === 'e-twice').length, 1);
  });

  it('stops retrying once its partition went to another member, and queues it again if it comes back', async () => {
    status = 503;
    const { handle, assignment, pending } = dispatcher([0]);
    await handle('e-moved');
    await until(() => received.includes('e-moved'));
    assignment[TOPIC] = []; // a rebalance: the new owner replays it, in order with what follows
    await until(() => pending() === 0, 8_000);
    assert.equal(pending(), 0, 'the delivery stopped at its next attempt (it would retry for 30 s)');
    status = 200;
    const answeredBefore = delivered.filter((id) => id === 'e-moved').length;
    assignment[TOPIC] = [0];
    await handle('e-moved'); // back here, replayed from the committed offsets
    await until(() => delivered.filter((id) => id === 'e-moved').length > answeredBefore);
    assert.equal(
      delivered.filter((id) => id === 'e-moved').length,
      answeredBefore + 1,
      'queued and delivered again',
    );
  });
});
