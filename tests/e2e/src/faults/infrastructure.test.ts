import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { ApiError, headerSocketFactory, ImChat, ImClient, ImSocket } from '@im/sdk';
import { eventually, Platform, repoRoot, sleep, TcpFailover } from '@im/testing';
import { SteadyLoad } from '../support/load.js';
import { registerUsers } from '../support/users.js';

// kill -9 of Kafka, Cassandra and NATS under steady load (~300 msg/s), each restarted through
// deploy/local/infra.sh; the services are never restarted by hand. Needs the local infrastructure.
const run = promisify(execFile);
const infra = (...args: string[]) =>
  run('bash', [join(repoRoot(), 'deploy/local/infra.sh'), ...args], { timeout: 10 * 60_000 });
const local = process.env.IM_INFRA_SOURCE === 'local';
/** Short, so that a NATS outage of a few seconds outlasts a gateway's presence lease. */
const LEASE_TTL_MS = 3_000;

/** Resident memory of a process in MiB. */
function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) / 1024;
}

describe('infrastructure faults under load', { skip: !local && 'needs deploy/local infrastructure' }, () => {
  let platform: Platform;

  before(async () => {
    platform = await Platform.start({
      env: {
        message: { SEQUENCER_SESSION_TIMEOUT_MS: '6000', SEND_TIMEOUT_MS: '4000' },
        gateway: { SEND_RATE_PER_SEC: '100000', SEND_BURST: '100000', GATEWAY_LEASE_RENEW_MS: '500' },
        presence: { GATEWAY_LEASE_TTL_MS: String(LEASE_TTL_MS), PRESENCE_SWEEP_INTERVAL_MS: '1000' },
      },
    });
  });
  after(() => platform?.stop());

  it('kill -9 of the Kafka broker: sends fail fast with a retry hint, memory stays bounded, all resumes after the restart', async () => {
    const message = platform.services.get('message')!;
    const load = await SteadyLoad.start(platform);
    await sleep(3_000);
    const before = rssMiB(message.pid);
    await infra('kill', 'kafka');
    let peak = before;
    const watch = setInterval(() => (peak = Math.max(peak, rssMiB(message.pid))), 250);
    try {
      await sleep(10_000); // down for a while, load still offered
    } finally {
      await infra('start', 'kafka');
      clearInterval(watch);
    }
    const report = await load.stop();
    assert.equal(report.acked, report.sent, `${report.acked} of ${report.sent} acked`);
    const unavailable = report.errors.get('unavailable');
    assert.ok(
      unavailable && unavailable.withRetryHint > 0,
      `unavailable with a retry hint: ${JSON.stringify([...report.errors])}`,
    );
    assert.ok(
      peak - before < 300,
      `message service memory grew ${Math.round(peak - before)} MiB while Kafka was down`,
    );
    await load.verify();
  });

  it('kill -9 of Cassandra, restarted: nothing acknowledged is lost, seqs dense', async () => {
    const load = await SteadyLoad.start(platform);
    await sleep(3_000);
    await infra('kill', 'cassandra');
    await sleep(3_000);
    await infra('start', 'cassandra');
    await sleep(3_000);
    const report = await load.stop();
    assert.equal(report.acked, report.sent, `${report.acked} of ${report.sent} acked`);
    await load.verify();
  });

  it('kill -9 of a Cassandra that syncs its commit log only every 10 s: the sequencer writes again what it lost', async () => {
    // The local node normally fsyncs before acknowledging; here it runs like a default single
    // node, which loses the last seconds of acknowledged writes in a crash. The sequencer commits
    // its offsets only once Cassandra confirmed a write SEQUENCER_COMMIT_DELAY_MS later, and
    // replays from them after the outage.
    const periodic = { ...process.env, IM_CASSANDRA_COMMITLOG_SYNC: 'periodic' };
    await infra('stop', 'cassandra');
    await run('bash', [join(repoRoot(), 'deploy/local/infra.sh'), 'start', 'cassandra'], {
      env: periodic,
      timeout: 10 * 60_000,
    });
    let load: SteadyLoad | undefined;
    try {
      load = await SteadyLoad.start(platform);
      // past one commit delay (20 s): offsets are committed while acknowledged writes pile up in
      // the 10 s sync window; the users and conversations made before the load are synced by then
      await sleep(25_000);
      await infra('kill', 'cassandra');
      await run('bash', [join(repoRoot(), 'deploy/local/infra.sh'), 'start', 'cassandra'], {
        env: periodic,
        timeout: 10 * 60_000,
      });
      await sleep(3_000);
      const report = await load.stop();
      assert.equal(report.acked, report.sent, `${report.acked} of ${report.sent} acked`);
      await load.verify();
      load = undefined;
      // the path under test ran (a pass without it would prove nothing about the replay)
      const replayed = [platform.services.get('message')!, ...platform.replicas]
        .flatMap((m) => m.logs)
        .filter((l) => String(l.msg).startsWith('Cassandra was down: replaying'));
      assert.ok(replayed.length > 0, 'the sequencer replayed from its committed offsets');
    } finally {
      await load?.stop();
      await infra('stop', 'cassandra');
      await infra('start', 'cassandra');
    }
  });

  it("a logout while NATS is down is acknowledged, and its revocation lands once NATS is back: the session's sockets close", async () => {
    const user = new ImClient(platform.gatewayUrl());
    // the services may still be reconnecting to the Cassandra the previous test killed
    let attempt = 0;
    await eventually(
      () => user.register(`natsdown-${Date.now().toString(36)}-${attempt++}`, 'correct horse battery'),
      {
        timeoutMs: 60_000,
        intervalMs: 1_000,
      },
    );
    await revokedWhileNatsDown(user, () => user.logout()); // 204: the revocation is in the outbox
  });

  it("a refresh token replayed while NATS is down is refused, and the family's revocation lands once NATS is back: the session's sockets close", async () => {
    const user = new ImClient(platform.gatewayUrl());
    await eventually(() => user.register(`natsreuse-${Date.now().toString(36)}`, 'correct horse battery'), {
      timeoutMs: 60_000,
      intervalMs: 1_000,
    });
    const first = { ...user.session! };
    await user.refresh();
    await user.refresh(); // the first token's successor is used: presenting the first is a replay
    const thief = new ImClient(platform.gatewayUrl());
    thief.session = first;
    await revokedWhileNatsDown(user, () =>
      assert.rejects(thief.refresh(), (err: ApiError) => err.code === 'refresh_reused'),
    );
  });

  /** `revoke` runs while NATS is stopped; once it is back, the user's open socket must close. */
  async function revokedWhileNatsDown(user: ImClient, revoke: () => Promise<unknown>): Promise<void> {
    const socket = await eventually(() => user.connect(), { timeoutMs: 30_000, intervalMs: 1_000 });
    await infra('stop', 'nats');
    try {
      await revoke();
    } finally {
      await infra('start', 'nats');
    }
    const closed = await Promise.race([
      socket.closed,
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 30_000)),
    ]);
    assert.equal(closed?.code, 4401, 'the revocation reached the gateway after the outage');
  }

  it('a gateway cut off from NATS for longer than its lease: once it is back, users whose sockets stayed open are online again, and stay so', async () => {
    const nats = new URL(process.env.NATS_URL!).host;
    let link = await TcpFailover.start([nats]);
    const port = link.port;
    const gw = await platform.startGateway({ NATS_URL: `nats://127.0.0.1:${port}` });
    try {
      const [alice, bob] = await eventually(() => registerUsers(platform, 2, 'leaselapse'), {
        timeoutMs: 60_000,
        intervalMs: 1_000,
      });
      const socket = await ImSocket.connect(
        `ws://${gw.address('publicPort')}/v1/ws`,
        alice!.session!.accessToken,
      );
      const status = async () => (await bob!.presence([alice!.user.id])).presence[0]!.status;
      await eventually(async () => assert.equal(await status(), 'online'));
      await link.stop(); // the gateway's NATS connection drops; NATS and presence carry on
      // the lease expires and presence takes the gateway's devices away (offline after its grace)
      await eventually(async () => assert.equal(await status(), 'offline'), {
        timeoutMs: 30_000,
        intervalMs: 500,
      });
      link = await TcpFailover.start([nats], port);
      await eventually(async () => assert.equal(await status(), 'online'), {
        timeoutMs: 30_000,
        intervalMs: 500,
      });
      await sleep(3 * LEASE_TTL_MS); // later expiry events and the sweep have had their turn
      assert.equal(await status(), 'online');
      assert.ok(socket.isOpen, 'the socket stayed open through the partition');
      await socket.close();
    } finally {
      await gw.stop();
      await link.stop();
    }
  });

  it('a gateway cut off from NATS: once it is back, its clients are told to sync and get what they missed live', async () => {
    const nats = new URL(process.env.NATS_URL!).host;
    let link = await TcpFailover.start([nats]);
    const port = link.port;
    const gw = await platform.startGateway({ NATS_URL: `nats://127.0.0.1:${port}` });
    let chat: ImChat | undefined;
    try {
      const [ana, bo] = await eventually(() => registerUsers(platform, 2, 'resync'), {
        timeoutMs: 60_000,
        intervalMs: 1_000,
      });
      const conv = await ana!.createConversation('direct', [bo!.user.id]);
      await ana!.sendMessage(conv.id, 'resync-0', 'before');
      // Bo's app is on the gateway whose link to NATS is cut
      const client = new ImClient(`http://${gw.address('publicPort')}`);
      client.session = bo!.session;
      chat = new ImChat(client, { socketFactory: headerSocketFactory });
      const texts = () => chat!.timeline(conv.id).map((t) => t.message.text);
      await chat.start();
      await eventually(() => assert.deepEqual(texts(), ['before']));
      await eventually(() => assert.equal(chat!.state, 'open'));
      await sleep(2_000); // the sync that follows the socket's ready is done
      await link.stop();
      // sent through the platform's own gateway: stored, its live event never reaches Bo's gateway
      await ana!.sendMessage(conv.id, 'resync-1', 'while cut off');
      await sleep(1_000);
      assert.deepEqual(texts(), ['before'], 'not delivered live while cut off');
      link = await TcpFailover.start([nats], port);
      // nothing else is sent: only the gateway's resync frame can bring it
      await eventually(() => assert.deepEqual(texts(), ['before', 'while cut off']), {
        timeoutMs: 30_000,
        intervalMs: 250,
      });
      assert.equal(chat.state, 'open', 'the socket stayed open');
    } finally {
      chat?.stop();
      await gw.stop();
      await link.stop();
    }
  });

  it('kill -9 of NATS, restarted: live delivery comes back and receivers heal with sync', async () => {
    const load = await SteadyLoad.start(platform);
    await sleep(3_000);
    await infra('kill', 'nats');
    await sleep(3_000);
    await infra('start', 'nats');
    await sleep(3_000);
    const report = await load.stop();
    assert.equal(report.acked, report.sent, `${report.acked} of ${report.sent} acked`);
    await load.verify();
  });
});
