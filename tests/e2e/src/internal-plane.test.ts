import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createGrpcClient, type GrpcIdentity } from '@im/platform/grpc';
import { AuthServiceService } from '@im/proto/auth/v1';
import { MessageServiceService } from '@im/proto/message/v1';
import { Platform, ServiceProcess, testGrpcIdentity, testGrpcTlsDir } from '@im/testing';
import { registerUsers } from './support/users.js';

/** The internal gRPC plane: services authenticate each other (mTLS) and only wired callers get in. */
describe('internal plane: mutual TLS between services, callers limited to the wiring', () => {
  let platform: Platform;

  before(async () => {
    platform = await Platform.start({ shared: true });
  });
  after(() => platform?.stop());

  const authAs = (identity: GrpcIdentity | undefined) =>
    createGrpcClient(AuthServiceService, {
      name: 'auth',
      address: platform.grpc('auth'),
      identity,
      deadlineMs: 3_000,
    });

  async function codeOf(p: Promise<unknown>): Promise<string> {
    try {
      await p;
      return 'ok';
    } catch (err) {
      return (err as { code?: string }).code ?? String(err);
    }
  }

  it('a wired service gets answers; a caller without a certificate or with a foreign CA’s gets no connection', async () => {
    const [alice] = await registerUsers(platform, 1, 'plane');
    const caller = { userId: alice!.user.id, tenantId: alice!.user.tenantId, sessionId: '' };
    const asGateway = authAs(testGrpcIdentity('gateway'));
    const asNobody = authAs(undefined);
    const asForeign = authAs(testGrpcIdentity('gateway', 'foreign-ca'));
    try {
      assert.equal(
        (await asGateway.getUser({ caller, userId: alice!.user.id, username: '' })).user?.id,
        alice!.user.id,
      );
      assert.equal(
        await codeOf(asNobody.getUser({ caller, userId: alice!.user.id, username: '' })),
        'unavailable',
      );
      assert.equal(
        await codeOf(asForeign.getUser({ caller, userId: alice!.user.id, username: '' })),
        'unavailable',
      );
    } finally {
      for (const c of [asGateway, asNobody, asForeign]) c.close();
    }
  });

  it('a service that is not wired to call another is refused (forbidden), whatever it asks', async () => {
    const [bob] = await registerUsers(platform, 1, 'plane');
    const caller = { userId: bob!.user.id, tenantId: bob!.user.tenantId, sessionId: '' };
    // media never calls auth; the operators' CLI never calls message
    const mediaToAuth = authAs(testGrpcIdentity('media'));
    const operatorToMessage = createGrpcClient(MessageServiceService, {
      name: 'message',
      address: platform.grpc('message'),
      identity: testGrpcIdentity('operator'),
    });
    try {
      assert.equal(
        await codeOf(mediaToAuth.getUser({ caller, userId: bob!.user.id, username: '' })),
        'forbidden',
      );
      assert.equal(
        await codeOf(operatorToMessage.listConversations({ caller, cursor: '', limit: 10 } as never)),
        'forbidden',
      );
    } finally {
      mediaToAuth.close();
      operatorToMessage.close();
    }
  });

  it('a wired service other than the gateway cannot act as a user: only its lookups answer', async () => {
    const [carol] = await registerUsers(platform, 1, 'plane');
    const caller = { userId: carol!.user.id, tenantId: carol!.user.tenantId, sessionId: '' };
    const as = (name: string) =>
      createGrpcClient(MessageServiceService, {
        name: 'message',
        address: platform.grpc('message'),
        identity: testGrpcIdentity(name),
      });
    const [notification, presence, gateway] = [as('notification'), as('presence'), as('gateway')];
    try {
      // a forged Caller gets nobody's conversations from notification or presence, the gateway's works
      const list = (c: typeof gateway) =>
        codeOf(c.listConversations({ caller, cursor: '', limit: 10 } as never));
      assert.equal(await list(notification), 'forbidden');
      assert.equal(await list(presence), 'forbidden');
      assert.equal(await list(gateway), 'ok');
      // what they are wired for still answers
      const member = (c: typeof gateway) =>
        codeOf(c.checkMembership({ caller, conversationId: 'none', quickNegative: false }));
      assert.equal(await member(notification), 'ok');
      assert.equal(await member(presence), 'ok');
    } finally {
      for (const c of [notification, presence, gateway]) c.close();
    }
  });

  it('a service will not start without its certificate, or with another service’s', async () => {
    for (const env of [{ GRPC_TLS_DIR: '' }, { GRPC_TLS_DIR: testGrpcTlsDir('gateway') }]) {
      const proc = await ServiceProcess.start('presence', {
        env: { ...platform.serviceEnv('presence'), MESSAGE_GRPC_ADDR: platform.grpc('message'), ...env },
        readyTimeoutMs: 15_000,
      }).catch((err: unknown) => err);
      if (proc instanceof ServiceProcess) {
        await proc.stop();
        assert.fail(`presence started with ${JSON.stringify(env)}`);
      }
      assert.match(String(proc), /exited \(code 78/);
      assert.match(String(proc), /GRPC_TLS_DIR/);
    }
  });
});
