import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { connectCassandra, type CassandraClient } from '@im/platform/cassandra';
import { createRegistry } from '@im/platform/registry';
import {
  infraEnvFromProcess,
  localServiceCredentials,
  OWN_CREDENTIALS_PREFIX,
  Platform,
  type ServiceName,
} from '@im/testing';
import { closeAll, registerUsers } from './support/users.js';

const PREFIX = OWN_CREDENTIALS_PREFIX;
const local = process.env.IM_INFRA_SOURCE === 'local';

describe(
  'Cassandra: every service logs in as its own role, with rights on its own keyspace only (ADR 0024)',
  { skip: !local && 'needs the Cassandra of deploy/local (its roles)' },
  () => {
    let platform: Platform;
    let credentials: Record<ServiceName, Record<string, string>>;
    const names = createRegistry(PREFIX);
    const open: CassandraClient[] = [];
    const infra = infraEnvFromProcess();

    const login = async (username: string | undefined, password?: string) => {
      const client = await connectCassandra({
        contactPoints: infra.CASSANDRA_CONTACT_POINTS!.split(','),
        localDataCenter: infra.CASSANDRA_LOCAL_DC ?? 'datacenter1',
        username,
        password,
        consistency: 'LOCAL_ONE',
        logger: pino({ level: 'silent' }),
      });
      open.push(client);
      await client.execute('SELECT release_version FROM system.local');
      return client;
    };
    const as = (service: ServiceName) =>
      login(credentials[service].CASSANDRA_USERNAME, credentials[service].CASSANDRA_PASSWORD);

    before(async () => {
      credentials = await localServiceCredentials(PREFIX);
      platform = await Platform.start({ prefix: PREFIX, env: credentials });
    });
    after(async () => {
      await Promise.all(open.map((c) => c.shutdown()));
      await platform?.stop();
    });

    it('the platform runs on these roles: registration, a conversation, a message, every service ready', async () => {
      for (const s of ['auth', 'message', 'media', 'notification'] as const) {
        assert.ok(credentials[s].CASSANDRA_USERNAME, `${s} has a role of its own`);
      }
      const [alice, bob] = await registerUsers(platform, 2, 'cqlroles');
      const conv = await alice!.createConversation('direct', [bob!.user.id]);
      const a = await alice!.connect();
      try {
        const sent = await a.sendMessage(conv.id, 'stored by the message role');
        const history = await bob!.allMessages(conv.id);
        assert.equal(history.at(-1)?.seq, sent.seq);
      } finally {
        await closeAll([a]);
      }
      for (const svc of [...platform.services.values(), ...platform.gateways]) {
        const res = await fetch(`http://${svc.address('httpPort')}/readyz`);
        assert.equal(res.status, 200, `${svc.name} ready: ${await res.text()}`);
      }
    });

    it('nobody logs in without a password of theirs', async () => {
      await assert.rejects(login(undefined), /authenticat|credentials|Provided username/i);
      await assert.rejects(
        login(credentials.media.CASSANDRA_USERNAME, 'not-the-password'),
        /authenticat|credentials|Provided username|incorrect/i,
      );
      await assert.rejects(
        login('cassandra', 'cassandra'),
        /authenticat|credentials|Provided username|not allowed/i,
      );
    });

    it("a service reads and writes its own keyspace and nothing else: no other service's tables, no new keyspaces, no roles", async () => {
      const media = await as('media');
      const own = await media.execute(`SELECT COUNT(*) FROM ${names.keyspace('media')}.schema_migrations`);
      assert.ok(Number(own.first().get(0)) > 0, 'its own migrations');
      const denied = /Unauthorized|permission|privileges|not authorized/i;
      await assert.rejects(
        media.execute(`SELECT * FROM ${names.keyspace('auth')}.schema_migrations LIMIT 1`),
        denied,
      );
      await assert.rejects(
        media.execute(
          `INSERT INTO ${names.keyspace('message')}.schema_migrations (version, name) VALUES (999, 'x')`,
        ),
        denied,
      );
      await assert.rejects(
        media.execute(
          `CREATE KEYSPACE IF NOT EXISTS ${PREFIX}_squatted WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
        ),
        denied,
      );
      await assert.rejects(
        media.execute(`CREATE ROLE IF NOT EXISTS ${PREFIX}_intruder WITH LOGIN = true`),
        denied,
      );
      await assert.rejects(
        media.execute(
          `GRANT SELECT ON KEYSPACE ${names.keyspace('media')} TO ${credentials.notification.CASSANDRA_USERNAME}`,
        ),
        denied,
      );
      // Cassandra gave media every right on the tables its migrations created, AUTHORIZE included;
      // media gave that one back once its schema was up to date
      await assert.rejects(
        media.execute(
          `GRANT SELECT ON TABLE ${names.keyspace('media')}.schema_migrations TO ${credentials.notification.CASSANDRA_USERNAME}`,
        ),
        denied,
        'media cannot hand its own tables to another role',
      );
      await media.execute(`SELECT * FROM ${names.keyspace('media')}.schema_migrations LIMIT 1`);
      const notification = await as('notification');
      await assert.rejects(
        notification.execute(`SELECT * FROM ${names.keyspace('auth')}.schema_migrations LIMIT 1`),
        denied,
        'notification reads no users nor sessions',
      );
    });
  },
);
