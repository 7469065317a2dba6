import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PresenceServiceService, type GetPresenceRequest } from '@im/proto/presence/v1';
import { AppError } from '../src/errors/index.js';
import {
  bindService,
  checkGrpcHealth,
  createGrpcClient,
  GrpcServer,
  type ServiceHandlers,
} from '../src/grpc/index.js';
import { quietLogger } from './env.js';

// A real server with one of the generated services; handlers only as the test needs them.
const calls: string[] = [];
const handlers: ServiceHandlers<typeof PresenceServiceService> = {
  getPresence: async (req: GetPresenceRequest) => {
    calls.push(`getPresence:${req.userIds[0]}`);
    if (req.userIds[0] === 'slow') await new Promise((r) => setTimeout(r, 1_500));
    if (req.userIds[0] === 'flaky') throw new AppError('unavailable', 'try again');
    if (req.userIds[0] === 'busy') throw new AppError('unavailable', 'overloaded', 750);
    if (req.userIds[0] === 'missing') throw new AppError('not_found', 'no such user');
    if (req.userIds[0] === 'crash') throw new TypeError('bug with internal details');
    return { presence: req.userIds.map((userId) => ({ userId, status: 'online', lastSeenAt: undefined })) };
  },
  setStatus: async () => ({ presence: undefined }),
  reportDevices: async () => ({}),
  typing: async (req) => {
    calls.push(`typing:${req.conversationId}`);
    if (req.conversationId === 'flaky') throw new AppError('unavailable', 'try again');
    return { sent: true };
  },
};

describe('gRPC server and client', () => {
  let server: GrpcServer;
  let address: string;

  before(async () => {
    server = new GrpcServer({
      port: 0,
      host: '127.0.0.1',
      logger: quietLogger,
      services: [bindService('im.presence.v1.PresenceService', PresenceServiceService, handlers)],
    });
    address = `127.0.0.1:${await server.start()}`;
  });

  after(() => server.shutdown(1_000));

  it('serves the standard health protocol per service', async () => {
    assert.equal(await checkGrpcHealth(address), 'SERVING');
    assert.equal(await checkGrpcHealth(address, { service: 'im.presence.v1.PresenceService' }), 'SERVING');
    assert.equal(await checkGrpcHealth(address, { service: 'im.nope.v1.Nope' }), 'SERVICE_UNKNOWN');
  });

  it('answers calls and carries stable error codes across the wire', async () => {
    const client = createGrpcClient(PresenceServiceService, { name: 'presence', address });
    try {
      const res = await client.getPresence({ caller: undefined, userIds: ['u1'] });
      assert.equal(res.presence[0]!.status, 'online');
      await assert.rejects(
        client.getPresence({ caller: undefined, userIds: ['missing'] }),
        (err: unknown) => {
          assert.ok(err instanceof AppError);
          assert.equal(err.code, 'not_found');
          assert.equal(err.message, 'no such user');
          return true;
        },
      );
      await assert.rejects(client.getPresence({ caller: undefined, userIds: ['crash'] }), (err: unknown) => {
        assert.ok(err instanceof AppError);
        assert.equal(err.code, 'internal');
        assert.doesNotMatch(err.message, /internal details/);
        return true;
      });
    } finally {
      client.close();
    }
  });

  it('gives every call a deadline', async () => {
    // the server answers 'slow' after 1.5 s; a 300 ms deadline must end the call with "timeout"
    const client = createGrpcClient(PresenceServiceService, { name: 'presence', address, deadlineMs: 300 });
    try {
      await assert.rejects(client.getPresence({ caller: undefined, userIds: ['slow'] }), (err: unknown) => {
        assert.ok(err instanceof AppError);
        assert.equal(err.code, 'timeout');
        assert.match(err.message, /^presence did not answer in time/);
        assert.match(err.detail!, /^127\.0\.0\.1:\d+: /, 'the address is in the detail, for the logs');
        return true;
      });
    } finally {
      client.close();
    }
  });

  it('retries idempotent calls on "unavailable" and never the others', async () => {
    const client = createGrpcClient(PresenceServiceService, {
      name: 'presence',
      address,
      deadlineMs: 5_000,
      idempotent: ['getPresence'],
      maxAttempts: 3,
    });
    try {
      calls.length = 0;
      await assert.rejects(client.getPresence({ caller: undefined, userIds: ['flaky'] }), isUnavailable);
      assert.deepEqual(calls, ['getPresence:flaky', 'getPresence:flaky', 'getPresence:flaky']);
      calls.length = 0;
      await assert.rejects(client.typing({ caller: undefined, conversationId: 'flaky' }), isUnavailable);
      assert.deepEqual(calls, ['typing:flaky'], 'a non-idempotent call is sent once');
      calls.length = 0;
      await assert.rejects(client.getPresence({ caller: undefined, userIds: ['missing'] }));
      assert.deepEqual(calls, ['getPresence:missing'], 'other errors are not retried');
      calls.length = 0;
      await assert.rejects(client.getPresence({ caller: undefined, userIds: ['busy'] }), (err: unknown) => {
        assert.ok(err instanceof AppError && err.code === 'unavailable');
        assert.equal(err.retryAfterMs, 750, "the server's hint reaches the caller");
        return true;
      });
      assert.deepEqual(
        calls,
        ['getPresence:busy'],
        'a server that said when to retry is not retried at once',
      );
    } finally {
      client.close();
    }
  });

  it('fails with a clear "unavailable" error when the server is stopped', async () => {
    const stopped = new GrpcServer({ port: 0, host: '127.0.0.1', logger: quietLogger, services: [] });
    const port = await stopped.start();
    await stopped.shutdown(500);
    const client = createGrpcClient(PresenceServiceService, {
      name: 'presence',
      address: `127.0.0.1:${port}`,
      deadlineMs: 60_000,
      idempotent: ['getPresence'],
    });
    try {
      // with a 60 s deadline, "timeout" would mean it waited instead of failing fast
      for (const call of [
        () => client.getPresence({ caller: undefined, userIds: ['u'] }),
        () => client.typing({ caller: undefined, conversationId: 'c' }),
      ]) {
        await assert.rejects(call(), (err: unknown) => {
          assert.ok(err instanceof AppError);
          assert.equal(err.code, 'unavailable');
          assert.match(err.message, /^presence is unavailable/);
          assert.match(err.detail!, new RegExp(`^127\\.0\\.0\\.1:${port}: `));
          return true;
        });
      }
      await assert.rejects(
        checkGrpcHealth(`127.0.0.1:${port}`, { deadlineMs: 30_000 }),
        (err: unknown) => err instanceof AppError && err.code === 'unavailable',
      );
    } finally {
      client.close();
    }
  });
});

function isUnavailable(err: unknown): boolean {
  return err instanceof AppError && err.code === 'unavailable';
}
