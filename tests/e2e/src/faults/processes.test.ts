import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Platform, sleep } from '@im/testing';
import { SteadyLoad } from '../support/load.js';

// Faults of our own processes under steady load (~300 msg/s): kill -9 of a gateway and of each
// of two message replicas, and a sequencer frozen (SIGSTOP) past its session timeout while the
// other replica takes its partitions over. Guarantees checked by SteadyLoad.verify().
const SESSION_TIMEOUT_MS = 6_000;
const messageEnv = {
  SEQUENCER_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
  SEND_TIMEOUT_MS: '4000',
};

describe('process faults under load', () => {
  let platform: Platform;

  before(async () => {
    platform = await Platform.start({
      gateways: 0,
      env: { message: messageEnv, gateway: { SEND_RATE_PER_SEC: '100000', SEND_BURST: '100000' } },
    });
    await platform.startMessageReplica();
    for (let i = 0; i < 2; i++)
      await platform.startGateway({ MESSAGE_GRPC_ADDR: platform.messageAddresses() });
  });
  after(() => platform?.stop());

  it('kill -9 of a gateway: its clients carry on through the other one; nothing acknowledged is lost', async () => {
    const load = await SteadyLoad.start(platform);
    await sleep(3_000); // load running before the fault
    await platform.gateways[1]!.kill();
    await sleep(3_000); // and after it
    await platform.startGateway({ MESSAGE_GRPC_ADDR: platform.messageAddresses() });
    const report = await load.stop();
    assert.ok(report.acked > 0 && report.acked === report.sent, `${report.acked} of ${report.sent} acked`);
    await load.verify();
  });

  it('kill -9 of each message replica in turn, restarted: nothing acknowledged lost, seqs dense', async () => {
    const load = await SteadyLoad.start(platform);
    await sleep(2_000);
    await platform.services.get('message')!.kill();
    await sleep(2_000);
    await platform.restartService('message', messageEnv);
    await sleep(2_000);
    await platform.replicas[0]!.kill();
    await sleep(2_000);
    await platform.restartMessageReplica(0, messageEnv);
    await sleep(2_000);
    const report = await load.stop();
    assert.equal(report.acked, report.sent, `${report.acked} of ${report.sent} acked`);
    await load.verify();
  });

  it('a sequencer frozen past its session timeout, then woken: it moves no last_seq back and writes no seq twice', async () => {
    // The frozen member only sequences (the load's gateway calls the other replica), and it is
    // woken before its Cassandra driver's 12 s read timeout: a request it had in flight is then
    // answered and it carries on with its batch, writing late, after the survivor's writes. The
    // load stops before it wakes, so a late write of an older last_seq would stay visible.
    const survivor = platform.services.get('message')!;
    const gateway = await platform.startGateway({ MESSAGE_GRPC_ADDR: survivor.address('grpcPort') });
    try {
      for (let round = 0; round < 3; round++) {
        const frozen = platform.replicas[0]!;
        const load = await SteadyLoad.start(platform, { gateways: [gateway] });
        await sleep(2_000);
        const mark = survivor.logs.length;
        frozen.freeze();
        let report;
        try {
          await sleep(3_000);
          load.pause();
          // the survivor gets every partition once the group has dropped the frozen member
          await survivor.waitForLog(
            (l) =>
              survivor.logs.indexOf(l) >= mark &&
              l.msg === 'partitions assigned' &&
              Object.values((l.assignment ?? {}) as Record<string, number[]>).flat().length >= 12,
            120_000,
          );
          report = await load.stop(); // the survivor sequenced what the frozen member had
        } finally {
          frozen.thaw();
        }
        // the woken member finishes the batch it had in hand, finds itself out and rejoins
        const woke = frozen.logs.length;
        await frozen.waitForLog(
          (l) => frozen.logs.indexOf(l) >= woke && l.msg === 'partitions assigned',
          120_000,
        );
        assert.equal(report.acked, report.sent, `${report.acked} of ${report.sent} acked`);
        await load.verifyLastSeqs();
        await load.verify();
      }
    } finally {
      await gateway.stop();
    }
  });
});
