import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import {
  bindKv,
  connectNats,
  jetStreamManager,
  NATS_BUCKETS,
  natsUserOf,
  openKv,
  provisionNatsBuckets,
  type NatsConnection,
} from '@im/platform/nats';
import { LiveEvent } from '@im/proto/events/v1';
import { createRegistry } from '@im/platform/registry';
import {
  eventually,
  localServiceCredentials,
  OWN_CREDENTIALS_PREFIX,
  Platform,
  repoRoot,
  type ServiceName,
} from '@im/testing';
import { closeAll, registerUsers } from './support/users.js';

// deploy/local/nats/authorization.conf has users for this prefix (tools/nats-auth.mjs)
const PREFIX = OWN_CREDENTIALS_PREFIX;
const NATS_LOG = join(repoRoot(), '.run/infra/nats/out.log');
const local = process.env.IM_INFRA_SOURCE === 'local';
// the services' defaults, which the harness provisioned the buckets with
const TTL = { ACCESS_TOKEN_TTL_SEC: 900, GATEWAY_LEASE_TTL_MS: 15_000 };

describe(
  'NATS: every service is its own user, limited to its subjects (ADR 0023)',
  { skip: !local && 'needs the NATS of deploy/local (its users and their permissions)' },
  () => {
    let platform: Platform;
    let users: Record<ServiceName, Record<string, string>>;
    let logStart: number;
    const names = createRegistry(PREFIX);
    const open: NatsConnection[] = [];

    const connectAs = async (service: ServiceName | 'admin', pass?: string) => {
      const creds =
        service === 'admin'
          ? { user: process.env.NATS_USER, pass: process.env.NATS_PASS }
          : { user: users[service].NATS_USER, pass: pass ?? users[service].NATS_PASS };
      const nc = await connectNats({
        servers: process.env.NATS_URL!,
        ...creds,
        name: `e2e-ownroles-${service}`,
        logger: pino({ level: 'silent' }),
      });
      open.push(nc);
      return nc;
    };
    const violations = () =>
      readFileSync(NATS_LOG, 'utf8')
        .slice(logStart)
        .split('\n')
        .filter((l) => / (Publish|Subscription) Violation /.test(l));

    before(async () => {
      logStart = statSync(NATS_LOG).size;
      users = await localServiceCredentials(PREFIX);
      platform = await Platform.start({ prefix: PREFIX, gateways: 2, env: users });
    });
    after(async () => {
      await Promise.all(open.map((nc) => nc.close()));
      await platform?.stop();
    });

    it('the platform works with only these permissions: live messages, typing, presence, revocation, on two gateways', async () => {
      const [alice, bob] = await registerUsers(platform, 2, 'natsusers');
      const conv = await alice!.createConversation('direct', [bob!.user.id]);
      const a = await alice!.connect();
      const b = await bob!.connect();
      try {
        // presence: the gateway's lease and device reports, the KV record, the change published
        const watch = await b.request('presence.subscribe', { userIds: [alice!.user.id] });
        if (watch.presence?.[0]?.status !== 'online') {
          await b.waitFor('presence', (f) => f.userId === alice!.user.id && f.status === 'online', 5_000);
        }
        const sent = await a.sendMessage(conv.id, 'over permitted subjects only');
        const got = await b.waitFor('message.new', (f) => f.message!.seq === sent.seq, 5_000);
        assert.equal(got.message!.text, 'over permitted subjects only');
        await a.request('typing', { conversationId: conv.id });
        await b.waitFor('typing', (f) => f.userId === alice!.user.id, 5_000);
        await alice!.logout();
        assert.equal((await a.closed).code, 4401, 'the revocation reached the gateway through the KV bucket');
      } finally {
        await closeAll([a, b]);
      }
      for (const svc of [...platform.services.values(), ...platform.gateways]) {
        const res = await fetch(`http://${svc.address('httpPort')}/readyz`);
        assert.equal(res.status, 200, `${svc.name} ready (its checks use NATS too): ${await res.text()}`);
      }
      assert.deepEqual(violations(), [], 'no service was refused anything it does');
    });

    it('nobody connects without a password of theirs', async () => {
      await assert.rejects(
        connectNats({
          servers: process.env.NATS_URL!,
          name: 'e2e-anonymous',
          logger: pino({ level: 'silent' }),
        }),
        /authorization|auth/i,
      );
      await assert.rejects(connectAs('gateway', 'not-the-password'), /authorization|auth/i);
    });

    /**
     * Whether `subject` reaches an unrestricted subscriber when `nc` publishes to it. Each flush is
     * a ping the server answers after what came before it on that connection: the publish was
     * routed (or refused) before the first pong, and delivered before the second.
     */
    const delivered = async (nc: NatsConnection, subject: string) => {
      const admin = await connectAs('admin');
      let seen = 0;
      admin.subscribe(subject, { callback: () => void seen++ });
      await admin.flush();
      nc.publish(subject, 'forged');
      await nc.flush();
      await admin.flush();
      return seen > 0;
    };

    /** Whether the server lets `nc` subscribe to `subject` (it refuses before answering a ping). */
    const subscribable = async (nc: NatsConnection, subject: string) => {
      const sub = nc.subscribe(subject);
      await nc.flush();
      const open = !sub.isClosed();
      sub.unsubscribe();
      return open;
    };

    it('presence publishes no live event, and neither a consumer nor a direct get it points at a live subject reaches a socket', async () => {
      const [victim, other] = await registerUsers(platform, 2, 'natsforge');
      const conv = await other!.createConversation('direct', [victim!.user.id]);
      const socket = await victim!.connect();
      const presence = await connectAs('presence');
      const forgeKey = `forge_${Date.now()}`;
      try {
        const live = names.subjects.liveUser(victim!.user.id);
        assert.equal(await delivered(presence, live), false, 'presence publishes no live event');
        assert.equal(await delivered(presence, names.subjects.typingTo(victim!.user.id)), true);

        // presence reads and writes its bucket: it may make a consumer that delivers to any
        // subject, and write what the consumer delivers
        const forged = LiveEvent.encode({
          event: {
            $case: 'messageNew',
            value: {
              id: 'forged',
              conversationId: conv.id,
              seq: 1,
              senderId: other!.user.id,
              clientMsgId: 'forged',
              text: 'forged through a consumer',
              createdAt: new Date().toISOString(),
              attachments: [],
              reactions: [],
              version: 0,
              mentions: [],
              replyCount: 0,
              lastReplySeq: 0,
            },
          },
        }).finish();
        const bucket = names.buckets.presence;
        const key = forgeKey;
        const before = await liveDropped('not_published');
        const jsm = await jetStreamManager(presence);
        await jsm.consumers.add(`KV_${bucket}`, {
          deliver_subject: live,
          filter_subject: `$KV.${bucket}.${key}`,
        });
        await (await bindKv(presence, bucket)).put(key, forged);
        await eventually(
          async () => assert.ok((await liveDropped('not_published')) > before, 'the gateway got it'),
          { what: 'the delivery reached the gateway and was dropped there' },
        );
        // a direct get answers to whatever reply subject the asker names, with the stored bytes
        const beforeDirect = await liveDropped('not_published');
        presence.publish(`$JS.API.DIRECT.GET.KV_${bucket}.$KV.${bucket}.${key}`, '', { reply: live });
        await eventually(
          async () => assert.ok((await liveDropped('not_published')) > beforeDirect, 'the gateway got it'),
          { what: 'a direct-get answer sent to the live subject reached the gateway and was dropped there' },
        );
        // on its own subject, typing is all a gateway takes from presence
        const kindBefore = await liveDropped('kind');
        presence.publish(names.subjects.typingTo(victim!.user.id), forged);
        await eventually(async () => assert.ok((await liveDropped('kind')) > kindBefore), {
          what: 'a message.new on the typing subject was dropped',
        });
        // the real message after it arrives; the forged one never did
        const real = await other!.sendMessage(conv.id, 'real-one', 'the real one');
        await socket.waitFor('message.new', (f) => f.message!.seq === real.seq, 5_000);
        assert.deepEqual(
          socket.events.filter((f) => f.type === 'message.new').map((f) => f.message!.text),
          ['the real one'],
        );
      } finally {
        await socket.close();
        await (await bindKv(presence, names.buckets.presence)).purge(forgeKey).catch(() => undefined);
      }
    });

    /** Live events the gateways dropped for a reason so far (their /metrics). */
    async function liveDropped(reason: 'not_published' | 'kind'): Promise<number> {
      let n = 0;
      for (const gw of platform.gateways) {
        const text = await (await fetch(`http://${gw.address('httpPort')}/metrics`)).text();
        for (const m of text.matchAll(/^im_gateway_live_dropped_total\{[^}]*reason="(\w+)"[^}]*\} (\d+)/gm))
          if (m[1] === reason) n += Number(m[2]);
      }
      return n;
    }

    it('a service reaches only its own subjects: no reading live messages, no forged frames, no revocations', async () => {
      const gateway = await connectAs('gateway');
      const notification = await connectAs('notification');
      const auth = await connectAs('auth');
      const message = await connectAs('message');
      const liveUser = names.subjects.liveUser('someone');
      assert.equal(
        await subscribable(notification, names.subjects.liveUser('*')),
        false,
        'notification reads no live messages',
      );
      assert.equal(await subscribable(auth, '>'), false);
      assert.equal(
        await subscribable(gateway, `_INBOX_${natsUserOf('message', PREFIX)}.>`),
        false,
        "another user's replies",
      );
      assert.equal(
        await subscribable(gateway, names.subjects.liveUser('*')),
        true,
        'the gateway delivers live messages',
      );

      assert.equal(await delivered(gateway, liveUser), false, 'the gateway forges no message.new');
      assert.equal(await delivered(notification, names.subjects.presenceOf('t', 'u')), false);
      assert.equal(await delivered(auth, names.subjects.conversationMembersChanged), false);
      assert.equal(await delivered(message, liveUser), true, 'the message service publishes live events');

      // the revocation bucket: auth writes it, the gateway and notification only read it
      const asGateway = await bindKv(gateway, names.buckets.revokedSessions);
      await assert.rejects(asGateway.put('forged-session', new Uint8Array([1])), /permission/i);
      await assert.rejects(asGateway.delete('any-session'), /permission/i);
      const asNotification = await bindKv(notification, names.buckets.revokedSessions);
      await assert.rejects(asNotification.put('forged-session', new Uint8Array([1])), /permission/i);
      // a consumer delivers to whatever subject its creator names: the gateway, which writes its
      // lease, may not create one there (nor change or delete the bucket's stream)
      const jsm = await jetStreamManager(gateway);
      const leases = `KV_${names.buckets.gateways}`;
      await assert.rejects(
        jsm.consumers.add(leases, {
          deliver_subject: liveUser,
          filter_subject: `$KV.${names.buckets.gateways}.>`,
        }),
        /permission|timeout/i,
      );
      await assert.rejects(jsm.streams.update(leases, { subjects: ['>'] }), /permission|timeout/i);
      await assert.rejects(jsm.streams.delete(leases), /permission|timeout/i);
      await eventually(() => {
        const logged = violations().filter((l) => l.includes(`user:${natsUserOf('gateway', PREFIX)}`));
        assert.ok(logged.length > 0, 'the server logs each refusal with the user');
      });
    });

    it('no service may make a bucket: whoever creates a missing stream chooses its subjects, so an operator provisions them', async () => {
      // presence, were its bucket lost, would make it again over the live subjects and read them
      const attempts = [
        ['presence', names.buckets.presence],
        ['presence', names.buckets.gateways],
        ['auth', names.buckets.revokedSessions],
      ] as const;
      for (const [service, bucket] of attempts) {
        const jsm = await jetStreamManager(await connectAs(service));
        await assert.rejects(
          jsm.streams.add({ name: `KV_${bucket}`, subjects: [names.subjects.liveUser('*')] }),
          /permission/i,
        );
        await eventually(() => {
          const refused = violations().filter(
            (l) =>
              l.includes(`user:${natsUserOf(service, PREFIX)}`) &&
              l.includes(`$JS.API.STREAM.CREATE.KV_${bucket}`),
          );
          assert.equal(refused.length, 1, `${service} may not create KV_${bucket}`);
        });
      }
      // the platform above ran on buckets the harness provisioned as an operator, each over its
      // own subjects only
      const admin = await jetStreamManager(await connectAs('admin'));
      for (const bucket of Object.values(names.buckets)) {
        const info = await admin.streams.info(`KV_${bucket}`);
        assert.deepEqual(info.config.subjects, [`$KV.${bucket}.>`]);
      }
      // a bucket lost for good: the service says how to provision it, an operator's run remakes it
      await admin.streams.delete(`KV_${names.buckets.gateways}`);
      await assert.rejects(
        openKv(await connectAs('presence'), names.buckets.gateways, NATS_BUCKETS.gateways(TTL)),
        /not this service's to make, provision it .*nats-buckets/,
      );
      const made = await provisionNatsBuckets(await connectAs('admin'), names, TTL);
      assert.equal(made[names.buckets.gateways], 'created');
      assert.equal(made[names.buckets.presence], 'unchanged');
    });
  },
);
