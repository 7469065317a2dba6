import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MessageServiceService, type SendMessageRequest } from '@im/proto/message/v1';
import { AppError } from '../src/errors/index.js';
import { bindService, createGrpcClient, GrpcServer } from '../src/grpc/index.js';
import { quietLogger } from './env.js';

// The one request stream of the contracts, alone in a service definition of its own.
const definition = { sendMessages: MessageServiceService.sendMessages };
const received: string[] = [];
const streamsSeen = new Set<unknown>();

async function handle(r: SendMessageRequest, call?: unknown) {
  streamsSeen.add(call);
  received.push(r.clientMsgId);
  const [kind, ms] = r.text.split(':');
  if (ms) await new Promise((resolve) => setTimeout(resolve, Number(ms)));
  if (kind === 'missing') throw new AppError('not_found', 'no such conversation');
  if (kind === 'flaky') throw new AppError('unavailable', 'try again');
  if (kind === 'busy') throw new AppError('unavailable', 'overloaded', 750);
  if (kind === 'crash') throw new TypeError('bug with internal details');
  return { message: undefined, created: r.clientMsgId !== 'again' };
}

const send = (clientMsgId: string, text = 'ok'): SendMessageRequest => ({
  caller: undefined,
  conversationId: 'c',
  clientMsgId,
  text,
  attachments: [],
  mentions: [],
  replyTo: undefined,
});

/** A server of the test's own, and a client of it that has opened its streams. */
async function ownServerAndClient(deadlineMs: number) {
  const own = serve();
  const port = await own.start();
  const c = createGrpcClient(definition, {
    name: 'message',
    address: `127.0.0.1:${port}`,
    idempotent: ['sendMessages'],
    deadlineMs,
  });
  await c.sendMessages(send('warm'));
  return { own, port, c };
}

function serve(port = 0): GrpcServer {
  return new GrpcServer({
    port,
    host: '127.0.0.1',
    logger: quietLogger,
    services: [bindService('im.message.v1.MessageService', definition, { sendMessages: handle as never })],
  });
}

describe('gRPC request streams: many requests over a few long-lived streams', () => {
  let server: GrpcServer;
  let address: string;

  before(async () => {
    server = serve();
    address = `127.0.0.1:${await server.start()}`;
  });
  after(() => server.shutdown(1_000));

  const client = (options: Partial<Parameters<typeof createGrpcClient>[1]> = {}) =>
    createGrpcClient(definition, {
      name: 'message',
      address,
      idempotent: ['sendMessages'],
      ...options,
    });

  it('answers each request with its own result, whatever the order of completion', async () => {
    const c = client();
    try {
      received.length = 0;
      // later requests finish first: each result must still reach its own caller
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          c.sendMessages(send(i % 2 ? 'again' : `m${i}`, `ok:${(200 - i) % 7}`)),
        ),
      );
      results.forEach((r, i) => assert.equal(r.created, i % 2 === 0, `result ${i}`));
      assert.equal(received.length, 200, 'each request handled once');
    } finally {
      c.close();
    }
  });

  it('carries stable error codes and hints, hides internal details, retries only what may be retried', async () => {
    const c = client({ maxAttempts: 3 });
    try {
      received.length = 0;
      await assert.rejects(c.sendMessages(send('a', 'missing')), {
        code: 'not_found',
        message: 'no such conversation',
      });
      await assert.rejects(c.sendMessages(send('b', 'crash')), (err: unknown) => {
        assert.ok(err instanceof AppError);
        assert.equal(err.code, 'internal');
        assert.doesNotMatch(err.message, /internal details/);
        return true;
      });
      await assert.rejects(c.sendMessages(send('c', 'busy')), { code: 'unavailable', retryAfterMs: 750 });
      await assert.rejects(c.sendMessages(send('d', 'flaky')), { code: 'unavailable' });
      assert.deepEqual(
        received,
        ['a', 'b', 'c', 'd', 'd', 'd'],
        'only "unavailable" without a hint is retried',
      );
    } finally {
      c.close();
    }
  });

  it('gives every request a deadline', async () => {
    const c = client({ deadlineMs: 300 });
    try {
      await assert.rejects(c.sendMessages(send('slow', 'ok:1500')), (err: unknown) => {
        assert.ok(err instanceof AppError);
        assert.equal(err.code, 'timeout');
        assert.match(err.detail!, /^127\.0\.0\.1:\d+: /, 'the address is in the detail, for the logs');
        return true;
      });
      assert.equal((await c.sendMessages(send('next'))).created, true, 'the stream still works');
    } finally {
      c.close();
    }
  });

  it('replaces streams as they age, without losing a request', async () => {
    const c = client({ requestStreams: { streams: 2, maxStreamAgeMs: 100 } });
    try {
      streamsSeen.clear();
      for (let round = 0; round < 8; round++) {
        await Promise.all(
          Array.from({ length: 10 }, (_, i) => c.sendMessages(send(`r${round}-${i}`, 'ok:20'))),
        );
        await new Promise((r) => setTimeout(r, 40));
      }
      assert.ok(streamsSeen.size >= 4, `streams were replaced (${streamsSeen.size} seen)`);
    } finally {
      c.close();
    }
  });

  it('a server that shuts down answers what is in flight, then ends its streams; the client moves on', async () => {
    const { own, port, c } = await ownServerAndClient(10_000);
    try {
      const inFlight = c.sendMessages(send('in-flight', 'ok:300'));
      await new Promise((r) => setTimeout(r, 50));
      const t0 = Date.now();
      await own.shutdown(5_000);
      assert.ok(Date.now() - t0 < 2_000, 'open streams did not hold the shutdown to its deadline');
      assert.equal((await inFlight).created, true, 'the request in flight was answered');
      // a server on the same address again: the next request opens a new stream to it
      const again = serve(port);
      await again.start();
      try {
        // (the channel reconnects with backoff, as a unary call would)
        let answered = false;
        for (const until = Date.now() + 5_000; !answered && Date.now() < until;)
          answered = await c.sendMessages(send('after')).then(
            (r) => r.created,
            () => new Promise<boolean>((r) => setTimeout(() => r(false), 100)),
          );
        assert.ok(answered, 'a new stream reached the server');
      } finally {
        await again.shutdown(1_000);
      }
    } finally {
      c.close();
    }
  });

  it('requests spread over two servers; while one shuts down, every request is answered by one of them', async () => {
    const served = { a: 0, b: 0 };
    const server = (name: 'a' | 'b') =>
      new GrpcServer({
        port: 0,
        host: '127.0.0.1',
        logger: quietLogger,
        services: [
          bindService('im.message.v1.MessageService', definition, {
            sendMessages: async (r) => {
              served[name]++;
              return handle(r);
            },
          }),
        ],
      });
    const [a, b] = [server('a'), server('b')];
    const target = `ipv4:127.0.0.1:${await a.start()},127.0.0.1:${await b.start()}`;
    const c = createGrpcClient(definition, {
      name: 'message',
      address: target,
      idempotent: ['sendMessages'],
    });
    try {
      // the first streams open while the channel connects (one server ready); they are replaced soon
      for (let round = 0; round < 30; round++) {
        await Promise.all(
          Array.from({ length: 8 }, (_, i) => c.sendMessages(send(`s${round}-${i}`, 'ok:5'))),
        );
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(served.a > 0 && served.b > 0, `both servers took requests (${served.a} / ${served.b})`);
      const inFlight = Array.from({ length: 20 }, (_, i) => c.sendMessages(send(`f${i}`, 'ok:300')));
      await new Promise((r) => setTimeout(r, 50));
      const stopping = a.shutdown(5_000);
      const during = [];
      for (let i = 0; i < 10; i++) {
        during.push(...Array.from({ length: 8 }, (_, j) => c.sendMessages(send(`d${i}-${j}`, 'ok:5'))));
        await new Promise((r) => setTimeout(r, 20));
      }
      const results = await Promise.allSettled([...inFlight, ...during]);
      const failed = results.filter((r) => r.status === 'rejected').map((r) => String(r.reason));
      assert.deepEqual(failed, [], 'no request failed while a server drained');
      await stopping;
    } finally {
      c.close();
      await Promise.all([a.shutdown(1_000), b.shutdown(1_000)]);
    }
  });

  it('a server that does not know the stream (an older version) is called with the unary method', async () => {
    const unaryOnly = { sendMessage: MessageServiceService.sendMessage };
    const old = new GrpcServer({
      port: 0,
      host: '127.0.0.1',
      logger: quietLogger,
      services: [bindService('im.message.v1.MessageService', unaryOnly, { sendMessage: handle as never })],
    });
    const port = await old.start();
    const c = createGrpcClient(
      { ...unaryOnly, ...definition },
      {
        name: 'message',
        address: `127.0.0.1:${port}`,
        idempotent: ['sendMessages'],
        unaryFallback: { sendMessages: 'sendMessage' },
      },
    );
    try {
      received.length = 0;
      assert.equal((await c.sendMessages(send('old-1'))).created, true);
      await assert.rejects(c.sendMessages(send('old-2', 'missing')), { code: 'not_found' });
      assert.deepEqual(received, ['old-1', 'old-2']);
    } finally {
      c.close();
      await old.shutdown(1_000);
    }
  });

  it('a server that dies fails the requests it held as "unavailable", sent again while the deadline allows', async () => {
    const { own, c } = await ownServerAndClient(60_000);
    try {
      const lost = c.sendMessages(send('lost', 'ok:2000'));
      await new Promise((r) => setTimeout(r, 50));
      await own.shutdown(0); // cancels the streams at once: the request gets no answer
      await assert.rejects(lost, (err: unknown) => {
        assert.ok(err instanceof AppError);
        assert.equal(err.code, 'unavailable');
        return true;
      });
    } finally {
      c.close();
    }
  });
});
