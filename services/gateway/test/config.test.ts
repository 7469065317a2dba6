import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServiceProcess } from '@im/testing';

describe('gateway configuration', () => {
  it('stops with exit 78 naming each bad downstream address', async () => {
    const proc = ServiceProcess.spawn('gateway', {
      env: {
        NATS_URL: 'nats://127.0.0.1:4222',
        AUTH_GRPC_ADDR: '127.0.0.1:50051',
        MESSAGE_GRPC_ADDR: 'no-port-here',
        PRESENCE_GRPC_ADDR: '127.0.0.1:50053',
        MEDIA_GRPC_ADDR: '127.0.0.1:50054',
        PUBLIC_PORT: '-1',
      },
    });
    const exit = await proc.exited;
    assert.equal(exit.code, 78);
    const fatal = proc.logs.find((l) => l.level === 'fatal')!;
    const named = (fatal.problems as string[]).map((p) => p.split(':')[0]).sort();
    assert.deepEqual(named, ['MESSAGE_GRPC_ADDR', 'NOTIFICATION_GRPC_ADDR', 'PUBLIC_PORT']);
  });
});
