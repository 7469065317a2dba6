import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import kafkajs, { Kafka, logLevel, type Admin, type SASLOptions } from 'kafkajs';
import { stopIdleRequestQueueTimers } from '@im/platform/kafka';
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

// deploy/local's Kafka has users and ACLs for this prefix (tools/kafka-access.mjs)
const PREFIX = OWN_CREDENTIALS_PREFIX;
const KAFKA_LOG = join(process.env.IM_RUN_DIR ?? join(repoRoot(), '.run'), 'infra/kafka/out.log');
const local = process.env.IM_INFRA_SOURCE === 'local';
/** A refusal for want of an ACL, however kafkajs wraps it (aggregate errors, retries, causes). */
const DENIED = (err: unknown): boolean => {
  const e = err as {
    type?: string;
    message?: string;
    errors?: unknown[];
    cause?: unknown;
    originalError?: unknown;
  };
  if (!e) return false;
  if (
    /AUTHORIZATION_FAILED/.test(e.type ?? '') ||
    /not authorized|authorization failed/i.test(e.message ?? '')
  )
    return true;
  return [...(e.errors ?? []), e.cause, e.originalError].some(
    (inner) => inner !== undefined && DENIED(inner),
  );
};

/** The chart's default: SCRAM-SHA-512 over TLS (deploy/local's second listener, its own CA). */
const TLS_BROKERS = process.env.IM_KAFKA_TLS_BROKERS ?? '';
const TLS_CA_FILE = process.env.IM_KAFKA_TLS_CA_FILE ?? '';
const CHART_SHAPE = {
  KAFKA_BROKERS: TLS_BROKERS,
  KAFKA_SASL_MECHANISM: 'scram-sha-512',
  KAFKA_TLS: 'true',
  KAFKA_TLS_CA_FILE: TLS_CA_FILE,
};

describe(
  'Kafka: every service logs in as its own user, with ACLs on its own topics and groups only (ADR 0028)',
  { skip: !local && 'needs the Kafka of deploy/local (its users and ACLs)' },
  () => {
    let platform: Platform;
    let users: Record<ServiceName, Record<string, string>>;
    let logStart: number;
    const names = createRegistry(PREFIX);
    const admins: Admin[] = [];

    // kafkajs' idle request queues wake every millisecond (tulios/kafkajs#1751), as in the services
    stopIdleRequestQueueTimers();
    const client = (sasl: SASLOptions | undefined, clientId: string) =>
      new Kafka({
        clientId,
        brokers: process.env.KAFKA_BROKERS!.split(','),
        ...(sasl ? { sasl } : {}),
        connectionTimeout: 3_000,
        // a refusal is an answer: no retrying it for half a minute
        retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 500 },
        logLevel: logLevel.NOTHING,
      });
    const loginOf = (service: ServiceName | 'admin', password?: string): SASLOptions => {
      const [username, own] =
        service === 'admin'
          ? [process.env.KAFKA_USERNAME!, process.env.KAFKA_PASSWORD!]
          : [users[service].KAFKA_USERNAME!, users[service].KAFKA_PASSWORD!];
      return { mechanism: 'plain', username, password: password ?? own };
    };
    const as = (service: ServiceName | 'admin') => client(loginOf(service), `e2e-acl-${service}`);
    const adminOf = async (service: ServiceName | 'admin') => {
      const admin = as(service).admin();
      admins.push(admin);
      await admin.connect();
      return admin;
    };
    const logLines = () => readFileSync(KAFKA_LOG).subarray(logStart).toString('utf8').split('\n');
    const denials = () =>
      logLines().filter((l) => new RegExp(`Principal = User:${PREFIX}-\\S+ is Denied`).test(l));
    /** The broker's authorizer logged refusing `service` the operation on the resource. */
    const refused = (service: ServiceName, operation: string, resource: string) =>
      eventually(
        () => {
          const line = `User:${users[service].KAFKA_USERNAME} is Denied operation = ${operation} `;
          const on = `on resource = ${resource} `;
          assert.ok(denials().some((l) => l.includes(line) && l.includes(on)));
        },
        { timeoutMs: 5_000, what: `the broker to log refusing ${service} ${operation} on ${resource}` },
      );
    let superAdmin: Promise<Admin> | undefined;
    /** The committed offsets of a group on a topic, summed over its partitions. */
    const committed = async (group: string, topic: string) => {
      // a failed connect is not kept: the next poll tries again
      const admin = await (superAdmin ??= adminOf('admin').catch((err: unknown) => {
        superAdmin = undefined;
        throw err;
      }));
      const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
    };
    const GROUPS = [
      [names.groups.messageSequencer, names.topics.conversationCommands],
      [names.groups.searchIndexer, names.topics.conversationEvents],
      [names.groups.pushDispatcher, names.topics.conversationEvents],
      [names.groups.webhookDispatcher, names.topics.conversationEvents],
      [names.groups.mediaProcessor, names.topics.mediaJobs],
    ] as const;

    before(async () => {
      assert.ok(TLS_BROKERS && TLS_CA_FILE, 'deploy/local/infra.sh env names its SCRAM-over-TLS listener');
      logStart = statSync(KAFKA_LOG).size;
      users = await localServiceCredentials(PREFIX);
      platform = await Platform.start({
        prefix: PREFIX,
        env: {
          ...users,
          // the sequencer's offsets are committed at once, so that one message moves its group
          message: { ...users.message, ...CHART_SHAPE, SEQUENCER_COMMIT_DELAY_MS: '0' },
          media: { ...users.media, ...CHART_SHAPE },
          notification: { ...users.notification, ...CHART_SHAPE },
        },
      });
    });
    after(async () => {
      await Promise.all(admins.map((a) => a.disconnect()));
      await platform?.stop();
    });

    it('the platform runs on these users: a message is sequenced, and an upload is processed, and every consumer group (sequencer, search, push, webhooks, media) moves past them', async () => {
      for (const s of ['message', 'media', 'notification'] as const) {
        assert.match(
          users[s].KAFKA_USERNAME ?? '',
          new RegExp(`^${PREFIX}-${s}$`),
          `${s} has a user of its own`,
        );
      }
      for (const s of ['gateway', 'auth', 'presence'] as const) {
        const env = platform.serviceEnv(s);
        assert.ok(!env.KAFKA_USERNAME && !env.KAFKA_PASSWORD, `${s} does not use Kafka and holds no login`);
      }
      const before = await Promise.all(GROUPS.map(([group, topic]) => committed(group, topic)));
      const [alice, bob] = await registerUsers(platform, 2, 'kafkausers');
      const conv = await alice!.createConversation('direct', [bob!.user.id]);
      const a = await alice!.connect();
      try {
        const sent = await a.sendMessage(conv.id, 'through the message user');
        const history = await bob!.allMessages(conv.id);
        assert.equal(history.at(-1)?.seq, sent.seq);
        // an image upload is a media job (thumbnails, metadata removed), produced and processed as media
        const pixel = Buffer.from(
          'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
          'base64',
        );
        const upload = await alice!.upload(pixel, { filename: 'pixel.png', contentType: 'image/png' });
        await alice!.waitUntilReady(upload.id);
      } finally {
        await closeAll([a]);
      }
      await eventually(
        async () => {
          const now = await Promise.all(GROUPS.map(([group, topic]) => committed(group, topic)));
          GROUPS.forEach(([group], i) =>
            assert.ok(now[i]! > before[i]!, `${group} committed past the new records`),
          );
        },
        { timeoutMs: 30_000, what: 'every consumer group to commit' },
      );
      for (const svc of [...platform.services.values(), ...platform.gateways]) {
        const res = await fetch(`http://${svc.address('httpPort')}/readyz`);
        assert.equal(res.status, 200, `${svc.name} ready: ${await res.text()}`);
      }
      assert.deepEqual(denials(), [], 'no service was refused anything it does');
    });

    it('nobody connects without a password of theirs', async () => {
      const anonymous = client(undefined, 'e2e-acl-anonymous').admin();
      const failedLogins = (why: string) =>
        logLines().filter((l) => l.includes('Failed authentication') && l.includes(why)).length;
      const anonymousBefore = failedLogins('during SASL handshake');
      await assert.rejects(
        (async () => {
          await anonymous.connect();
          await anonymous.listTopics();
        })(),
      );
      await anonymous.disconnect();
      await eventually(() => assert.ok(failedLogins('during SASL handshake') > anonymousBefore), {
        timeoutMs: 5_000,
        what: 'the broker to log refusing a request without a login',
      });
      const wrong = client(loginOf('message', 'not-the-password'), 'e2e-acl-wrong').admin();
      await assert.rejects(wrong.connect(), /SASL|authenticat/i);
      await wrong.disconnect();
    });

    it('the services speak SCRAM-SHA-512 over TLS, as the chart configures them; PLAIN, a wrong password, no TLS and an untrusted CA are refused there', async () => {
      for (const s of ['message', 'media', 'notification'] as const)
        assert.deepEqual(
          [platform.serviceEnv(s).KAFKA_BROKERS, platform.serviceEnv(s).KAFKA_SASL_MECHANISM],
          [TLS_BROKERS, 'scram-sha-512'],
          `${s} runs over the TLS listener`,
        );
      const ca = readFileSync(TLS_CA_FILE, 'utf8');
      const own = { username: users.message.KAFKA_USERNAME!, password: users.message.KAFKA_PASSWORD! };
      const listTopics = async (sasl: SASLOptions, ssl: { ca: string[] } | boolean) => {
        const admin = new Kafka({
          clientId: 'e2e-acl-tls',
          brokers: [TLS_BROKERS],
          sasl,
          ssl,
          connectionTimeout: 3_000,
          authenticationTimeout: 3_000,
          requestTimeout: 3_000,
          retry: { retries: 0 },
          logLevel: logLevel.NOTHING,
        }).admin();
        try {
          await admin.connect();
          return await admin.listTopics();
        } finally {
          await admin.disconnect();
        }
      };
      // a fresh options object each time: kafkajs keeps its SASL provider, bound to the first
      // password, on the object it was given, so a spread copy would log in with that password
      const scram = (password = own.password): SASLOptions => ({
        mechanism: 'scram-sha-512',
        username: own.username,
        password,
      });
      assert.ok((await listTopics(scram(), { ca: [ca] })).includes(names.topics.conversationCommands));
      await assert.rejects(listTopics(scram('not-the-password'), { ca: [ca] }), /authentication failed/i);
      await assert.rejects(
        listTopics({ mechanism: 'plain', username: own.username, password: own.password }, { ca: [ca] }),
        /mechanism|SASL/i,
      );
      await assert.rejects(
        listTopics(scram(), true),
        /certificate|self.signed|verify/i,
        'the system CAs do not vouch for it',
      );
      await assert.rejects(listTopics(scram(), false), 'no TLS, no answer');
    });

    it('only the message service writes commands and events: a forged send from notification or media is refused', async () => {
      for (const service of ['notification', 'media'] as const) {
        const producer = as(service).producer();
        await producer.connect();
        try {
          for (const topic of [names.topics.conversationCommands, names.topics.conversationEvents]) {
            await assert.rejects(
              producer.send({ topic, messages: [{ key: 'c1', value: 'forged' }] }),
              DENIED,
              `${service} writes to ${topic}`,
            );
            // a topic it may not read is refused at the metadata request already; one it reads, at the write
            const reads = service === 'notification' && topic === names.topics.conversationEvents;
            await refused(service, reads ? 'WRITE' : 'DESCRIBE', `Topic:LITERAL:${topic}`);
          }
        } finally {
          await producer.disconnect();
        }
      }
    });

    it('media reads no messages; notification reads events but no commands, and only in its own groups', async () => {
      const reads = async (service: ServiceName, group: string, topic: string) => {
        const consumer = as(service).consumer({ groupId: group });
        await consumer.connect();
        try {
          await consumer.subscribe({ topic, fromBeginning: true });
          // joining the group and fetching: what a refusal of the group or the topic stops
          await new Promise<void>((resolve, reject) => {
            consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
            consumer.on(consumer.events.GROUP_JOIN, () => resolve());
            void consumer.run({ eachMessage: async () => undefined }).catch(reject);
          });
        } finally {
          await consumer.disconnect();
        }
      };
      // kafkajs reports some refusals as other errors (no coordinator found): the broker's log says which
      await assert.rejects(reads('media', names.groups.mediaProcessor, names.topics.conversationEvents));
      await refused('media', 'DESCRIBE', `Topic:LITERAL:${names.topics.conversationEvents}`);
      await assert.rejects(
        reads('notification', names.groups.pushDispatcher, names.topics.conversationCommands),
      );
      await refused('notification', 'DESCRIBE', `Topic:LITERAL:${names.topics.conversationCommands}`);
      // joining the sequencer's group would let it move the group's offsets (skip commands)
      await assert.rejects(
        reads('notification', names.groups.messageSequencer, names.topics.conversationEvents),
      );
      await refused('notification', 'DESCRIBE', `Group:LITERAL:${names.groups.messageSequencer}`);
    });

    it('no service creates or deletes topics beyond its own, or changes ACLs', async () => {
      const notification = await adminOf('notification');
      await assert.rejects(
        notification.createTopics({ topics: [{ topic: `${PREFIX}.squatted`, numPartitions: 1 }] }),
        DENIED,
      );
      await refused('notification', 'CREATE', `Topic:LITERAL:${PREFIX}.squatted`);
      const message = await adminOf('message');
      await assert.rejects(message.deleteTopics({ topics: [names.topics.conversationEvents] }), DENIED);
      await refused('message', 'DELETE', `Topic:LITERAL:${names.topics.conversationEvents}`);
      await assert.rejects(
        message.createAcls({
          acl: [
            {
              resourceType: kafkajs.AclResourceTypes.TOPIC,
              resourceName: names.topics.conversationCommands,
              resourcePatternType: kafkajs.ResourcePatternTypes.LITERAL,
              principal: `User:${users.notification.KAFKA_USERNAME}`,
              host: '*',
              operation: kafkajs.AclOperationTypes.WRITE,
              permissionType: kafkajs.AclPermissionTypes.ALLOW,
            },
          ],
        }),
      );
      await refused('message', 'ALTER', 'Cluster:LITERAL:kafka-cluster');
      const topics = await (await adminOf('admin')).listTopics();
      assert.ok(topics.includes(names.topics.conversationEvents), 'the events topic is still there');
      assert.ok(!topics.includes(`${PREFIX}.squatted`));
    });
  },
);
