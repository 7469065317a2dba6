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
    calls.push('getPresence');
    if (req.userIds[0] === 'slow') await new Promise((r) => setTimeout(r, 1_500));
    if (req.userIds[0] === 'missing') throw new AppError('not_found', 'no such user');
    if (req.userIds[0] === 'crash') throw new TypeError('bug with internal details');
    return { presence: req.userIds.map((userId) => ({ userId, status: 'online', lastSeenAt: undefined })) };
  },
  setStatus: async () => ({ presence: undefined }),
  reportDevices: async () => ({}),
  typing: async () => ({ sent: true }),
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
    assert.equal(await checkGrpcHealth(address, 'im.presence.v1.PresenceService'), 'SERVING');
    assert.equal(await checkGrpcHealth(address, 'im.nope.v1.Nope'), 'SERVICE_UNKNOWN');
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
    const client = createGrpcClient(PresenceServiceService, { name: 'presence', address, deadlineMs: 300 });
    try {
      const t0 = Date.now();
      await assert.rejects(client.getPresence({ caller: undefined, userIds: ['slow'] }), (err: unknown) => {
        assert.ok(err instanceof AppError);
        assert.equal(err.code, 'timeout');
        assert.match(err.message, /presence .* did not answer in time/);
        return true;
      });
      assert.ok(Date.now() - t0 < 1_200, 'the caller gave up at its deadline');
    } finally {
      client.close();
    }
  });

  it('fails fast with a clear error when the server is stopped, retrying only idempotent calls', async () => {
    const stopped = new GrpcServer({ port: 0, host: '127.0.0.1', logger: quietLogger, services: [] });
    const port = await stopped.start();
    await stopped.shutdown(500);
    const client = createGrpcClient(PresenceServiceService, {
      name: 'presence',
      address: `127.0.0.1:${port}`,
      deadlineMs: 5_000,
      idempotent: ['getPresence'],
    });
    try {
      for (const call of [
        () => client.getPresence({ caller: undefined, userIds: ['u'] }),
        () => client.typing({ caller: undefined, conversationId: 'c' }),
      ]) {
        const t0 = Date.now();
        await assert.rejects(call(), (err: unknown) => {
          assert.ok(err instanceof AppError);
          assert.equal(err.code, 'unavailable');
          assert.match(err.message, new RegExp(`presence \\(127\\.0\\.0\\.1:${port}\\) is unavailable`));
          return true;
        });
        assert.ok(
          Date.now() - t0 < 2_000,
          `failed after ${Date.now() - t0} ms, long before the 5 s deadline`,
        );
      }
      await assert.rejects(
        checkGrpcHealth(`127.0.0.1:${port}`, '', 1_000),
        (err: unknown) => err instanceof AppError && err.code === 'unavailable',
      );
    } finally {
      client.close();
    }
  });
});
