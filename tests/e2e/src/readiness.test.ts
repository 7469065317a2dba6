import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkGrpcHealth } from '@im/platform/grpc';
import { bindKv } from '@im/platform/nats';
import { createRegistry } from '@im/platform/registry';
import { eventually, Platform, testGrpcIdentity } from '@im/testing';
import { registerUsers } from './support/users.js';
import { runnerNats } from './support/nats.js';

interface Readyz {
  status: string;
  checks: Array<{ name: string; ok: boolean; error?: string; ms: number }>;
}

async function readyz(port: number): Promise<{ code: number; body: Readyz }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { code: res.status, body: (await res.json()) as Readyz };
}

describe('readiness across services', () => {
  let platform: Platform;

  before(async () => {
    platform = await Platform.start();
  });

  after(() => platform?.stop());

  it('every service is ready and serves the gRPC health protocol', async () => {
    for (const [name, svc] of platform.services) {
      assert.equal((await readyz(svc.ports.httpPort!)).code, 200, `${name} ready`);
      const health = await checkGrpcHealth(svc.address('grpcPort'), {
        peer: name,
        identity: testGrpcIdentity('gateway'),
      });
      assert.equal(health, 'SERVING', `${name} gRPC health`);
    }
    const gw = await readyz(platform.gateways[0]!.ports.httpPort!);
    assert.equal(gw.code, 200);
    assert.deepEqual(gw.body.checks.map((c) => c.name).sort(), [
      'auth',
      'media',
      'message',
      'nats',
      'notification',
      'presence',
      'presence-lease',
      'revocations',
      'signing-keys',
    ]);
  });

  it('an undecodable entry in the revocation bucket is skipped: the gateway stays ready and later revocations land', async () => {
    const nats = await runnerNats('e2e-bad-revocation');
    try {
      const kv = await bindKv(nats, createRegistry(platform.prefix).buckets.revokedSessions);
      // not a SessionRevoked: an invalid protobuf wire type
      await kv.put('not-a-revocation', new Uint8Array([0xff, 0xff, 0xff]));
    } finally {
      await nats.close();
    }
    const [u] = await registerUsers(platform, 1, 'badkv');
    const socket = await u!.connect();
    await u!.logout();
    const closed = await Promise.race([
      socket.closed,
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 15_000)),
    ]);
    assert.equal(closed?.code, 4401, 'a revocation after the bad entry still lands (within 15 s)');
    const gatewayHealth = platform.gateways[0]!.ports.httpPort!;
    for (let i = 0; i < 3; i++) {
      const r = await readyz(gatewayHealth);
      assert.equal(r.code, 200, JSON.stringify(r.body.checks.filter((c) => !c.ok)));
      await new Promise((res) => setTimeout(res, 1_000));
    }
  });

  it('a client told that a service is down learns nothing of the internal plane (no address, no socket error)', async () => {
    const [u] = await registerUsers(platform, 1, 'leak');
    // presence has no Kafka consumer group: back within seconds, not after a rebalance
    await platform.services.get('presence')!.kill();
    try {
      const res = await fetch(`${platform.gatewayUrl()}/v1/presence?userIds=${u!.user.id}`, {
        headers: { authorization: `Bearer ${u!.session!.accessToken}` },
      });
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(res.status, 503);
      assert.equal(body.error.code, 'unavailable');
      assert.doesNotMatch(
        body.error.message,
        /\d+\.\d+\.\d+\.\d+|:\d{2,5}\b|ECONNREFUSED|dns:/,
        body.error.message,
      );
    } finally {
      await platform.restartService('presence');
    }
  });

  it('the gateway reports a stopped service as not ready, at once and by name, and recovers when it is back', async () => {
    const gatewayHealth = platform.gateways[0]!.ports.httpPort!;
    // presence has no Kafka consumer group: back within seconds, not after a rebalance
    await platform.services.get('presence')!.kill();
    const down = await readyz(gatewayHealth);
    assert.equal(down.code, 503);
    const presence = down.body.checks.find((c) => c.name === 'presence')!;
    assert.equal(presence.ok, false);
    // "unavailable", not "did not answer in time": the check failed fast instead of waiting
    assert.match(presence.error!, /presence .* is unavailable/);
    assert.ok(
      down.body.checks.filter((c) => c.name !== 'presence').every((c) => c.ok),
      'only presence is reported',
    );

    await platform.restartService('presence');
    await eventually(async () => assert.equal((await readyz(gatewayHealth)).code, 200), {
      timeoutMs: 15_000,
      what: 'gateway ready again',
    });
  });

  it('a service shuts down cleanly on SIGTERM (exit 0, shutdown logged)', async () => {
    const notification = platform.services.get('notification')!;
    const exit = await notification.stop();
    assert.equal(exit.code, 0);
    assert.ok(notification.logs.some((l) => l.msg === 'shutting down'));
    assert.ok(notification.logs.some((l) => l.msg === 'stopped'));
    await platform.restartService('notification');
  });
});
