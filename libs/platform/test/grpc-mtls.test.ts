import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import grpc from '@grpc/grpc-js';
import { AuthServiceService } from '@im/proto/auth/v1';
import { MediaServiceService } from '@im/proto/media/v1';
import { MessageServiceService } from '@im/proto/message/v1';
import { NotificationServiceService } from '@im/proto/notification/v1';
import { PresenceServiceService } from '@im/proto/presence/v1';
import {
  bindService,
  createGrpcClient,
  GRPC_METHODS_OF,
  GRPC_WIRING,
  grpcCallersOf,
  GrpcServer,
  loadGrpcIdentity,
  type GrpcIdentity,
} from '../src/grpc/index.js';
import { quietLogger } from './env.js';

const CERTS = fileURLToPath(new URL('../../../../deploy/local/grpc-certs.sh', import.meta.url));

/** Real TLS between a server and clients, with certificates of deploy/local/grpc-certs.sh. */
describe('gRPC mutual TLS: the server takes only its CA’s certificates, and only wired callers', () => {
  let dir: string;
  let server: GrpcServer;
  let address: string;
  const id = (name: string, ca = 'own') => loadGrpcIdentity(join(dir, ca, name));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'im-mtls-'));
    const names = ['auth', 'gateway', 'media', 'operator', 'notification', 'message'];
    execFileSync('bash', [CERTS, join(dir, 'own'), ...names]);
    execFileSync('bash', [CERTS, join(dir, 'foreign'), ...names]);
    const notImplemented = async () => {
      throw new Error('not used');
    };
    const handlers = Object.fromEntries(
      Object.keys(AuthServiceService).map((m) => [m, notImplemented]),
    ) as Record<string, () => Promise<never>>;
    handlers.getJwks = async () => ({ keys: [] }) as never;
    handlers.getCallerRole = async () => ({ role: 'member' }) as never;
    handlers.createTenant = async () =>
      ({ tenant: undefined, adminInvite: 'x', inviteExpiresAt: new Date().toISOString() }) as never;
    server = new GrpcServer({
      port: 0,
      host: '127.0.0.1',
      logger: quietLogger,
      identity: id('auth'),
      allowedCallers: grpcCallersOf('auth'),
      services: [bindService('im.auth.v1.AuthService', AuthServiceService, handlers as never)],
    });
    address = `127.0.0.1:${await server.start()}`;
  });
  after(async () => {
    await server?.shutdown(1_000);
    rmSync(dir, { recursive: true, force: true });
  });

  async function outcome(
    identity: GrpcIdentity | undefined,
    call: 'getJwks' | 'createTenant' | 'getCallerRole' = 'getJwks',
    name = 'auth',
  ) {
    const client = createGrpcClient(AuthServiceService, { name, address, identity, deadlineMs: 2_000 });
    try {
      await (call === 'getJwks'
        ? client.getJwks({})
        : call === 'getCallerRole'
          ? client.getCallerRole({ caller: undefined })
          : client.createTenant({ operatorToken: '', name: 'x', registration: '', inviteTtlSeconds: 0 }));
      return 'ok';
    } catch (err) {
      return (err as { code?: string }).code ?? String(err);
    } finally {
      client.close();
    }
  }

  /** TLS that trusts the server's CA but presents no certificate of its own. */
  async function caOnlyCall(ca: Buffer): Promise<string> {
    const Ctor = grpc.makeGenericClientConstructor(AuthServiceService, 'auth');
    const client = new Ctor(address, grpc.ChannelCredentials.createSsl(ca), {
      'grpc.ssl_target_name_override': 'auth',
    }) as unknown as Record<string, Function> & grpc.Client;
    try {
      return await new Promise<string>((resolve) =>
        client.getJwks!(
          {},
          new grpc.Metadata(),
          { deadline: Date.now() + 2_000 },
          (err: grpc.ServiceError | null) =>
            resolve(err ? (err.code === grpc.status.UNAVAILABLE ? 'unavailable' : String(err.code)) : 'ok'),
        ),
      );
    } finally {
      client.close();
    }
  }

  it('a wired caller gets answers', async () => {
    assert.equal(await outcome(id('gateway')), 'ok');
  });

  it('no client certificate, or one of another CA (even trusting ours): no connection', async () => {
    assert.equal(await outcome(undefined), 'unavailable', 'plaintext');
    const own = id('gateway');
    assert.equal(await caOnlyCall(own.ca), 'unavailable', 'TLS without a client certificate');
    const foreign = id('gateway', 'foreign');
    assert.equal(
      await outcome({ ...foreign, ca: own.ca, dir: undefined }),
      'unavailable',
      'a foreign CA’s client certificate',
    );
  });

  it('a server that is not the one named is refused by the client (no impersonation)', async () => {
    assert.equal(await outcome(id('gateway'), 'getJwks', 'media'), 'unavailable');
  });

  it('a service that is not wired to call auth is forbidden; the operator only reaches its own methods', async () => {
    assert.equal(await outcome(id('media')), 'forbidden');
    assert.equal(await outcome(id('operator'), 'getJwks'), 'forbidden');
    assert.equal(await outcome(id('operator'), 'createTenant'), 'ok');
  });

  it('a wired service other than the gateway reaches only the lookups it needs, not methods that act as a user', async () => {
    // notification may ask auth for a caller's role, not for tenants or keys; only the gateway,
    // which verifies users' tokens, may call anything with a Caller
    assert.equal(await outcome(id('notification'), 'getCallerRole'), 'ok');
    assert.equal(await outcome(id('notification'), 'createTenant'), 'forbidden');
    assert.equal(await outcome(id('notification'), 'getJwks'), 'forbidden');
    assert.equal(await outcome(id('message'), 'getCallerRole'), 'forbidden');
    assert.equal(await outcome(id('gateway'), 'getCallerRole'), 'ok');
  });

  it('the method limits name real methods of services their callers are wired to', () => {
    const definitions: Record<string, object> = {
      auth: AuthServiceService,
      message: MessageServiceService,
      media: MediaServiceService,
      notification: NotificationServiceService,
      presence: PresenceServiceService,
    };
    for (const [caller, byService] of Object.entries(GRPC_METHODS_OF))
      for (const [service, methods] of Object.entries(byService)) {
        assert.ok(GRPC_WIRING[caller]?.includes(service), `${caller} is wired to call ${service}`);
        for (const m of methods) assert.ok(m in definitions[service]!, `${service} has a method ${m}`);
      }
    assert.deepEqual(
      Object.keys(GRPC_WIRING).filter((c) => !(c in GRPC_METHODS_OF)),
      ['gateway', 'auth'],
      'only the gateway calls without a method list (auth calls nobody)',
    );
  });

  it('a request stream admits the same callers, checked once per stream', async () => {
    // a server with the message service's callers and its one request stream (the certificate
    // it shows is auth's: only who calls is under test here)
    const definition = { sendMessages: MessageServiceService.sendMessages };
    const streams = new GrpcServer({
      port: 0,
      host: '127.0.0.1',
      logger: quietLogger,
      identity: id('auth'),
      allowedCallers: grpcCallersOf('message'),
      services: [
        bindService('im.message.v1.MessageService', definition, {
          sendMessages: async () => ({ message: undefined, created: true }),
        }),
      ],
    });
    const at = `127.0.0.1:${await streams.start()}`;
    const send = async (identity: GrpcIdentity) => {
      const client = createGrpcClient(definition, { name: 'auth', address: at, identity, deadlineMs: 2_000 });
      try {
        const results = await Promise.allSettled(
          Array.from({ length: 5 }, (_, i) =>
            client.sendMessages({
              caller: undefined,
              conversationId: 'c',
              clientMsgId: String(i),
              text: 't',
              attachments: [],
              mentions: [],
              replyTo: undefined,
            }),
          ),
        );
        return results.map((r) =>
          r.status === 'fulfilled' ? 'ok' : ((r.reason as { code?: string }).code ?? String(r.reason)),
        );
      } finally {
        client.close();
      }
    };
    try {
      assert.deepEqual(await send(id('gateway')), ['ok', 'ok', 'ok', 'ok', 'ok']);
      assert.deepEqual(await send(id('operator')), Array(5).fill('forbidden'));
      // media is wired to call the message service, but only to ask whether a caller may see a file
      assert.deepEqual(await send(id('media')), Array(5).fill('forbidden'));
    } finally {
      await streams.shutdown(1_000);
    }
  });

  it('refuses to build a server with mTLS and no callers (it would admit anyone)', () => {
    assert.throws(
      () => new GrpcServer({ port: 0, logger: quietLogger, identity: id('auth'), services: [] }),
      /allowed callers/,
    );
  });
});
