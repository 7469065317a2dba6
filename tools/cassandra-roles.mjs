#!/usr/bin/env node
// Cassandra roles, one per service with rights on its own keyspace only (ADR 0024). Needs the
// build (npx im-tsc -b).
//   node tools/cassandra-roles.mjs --print [--prefix X] [--replication dc1:3]
//       the CQL an administrator runs for a deployment (passwords as placeholders)
//   node tools/cassandra-roles.mjs --variables
//       the password variables deploy/local/infra.sh makes
//   node tools/cassandra-roles.mjs --local
//       what deploy/local/infra.sh runs once Cassandra is up: an unrestricted im_infra_admin
//       instead of the default superuser (which it disables), and the services' roles for the
//       quick start (no prefix) and tests/e2e/src/cassandra-roles.test.ts (prefix ownroles); passwords from the
//       environment (IM_CASSANDRA_ADMIN_PASS, cassandraPasswordVariable)
import pino from 'pino';
import {
  CASSANDRA_SERVICES,
  cassandraPasswordVariable,
  cassandraRoleOf,
  cassandraRoleStatements,
  connectCassandra,
} from '../libs/platform/dist/src/cassandra/index.js';

const LOCAL_PREFIXES = ['', 'ownroles'];
const ADMIN = 'im_infra_admin';
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};

if (process.argv.includes('--print')) {
  for (const service of CASSANDRA_SERVICES) {
    const statements = cassandraRoleStatements({
      service,
      prefix: arg('--prefix') ?? '',
      replication: arg('--replication') ?? '3',
      password: `<password of ${service}>`,
    });
    console.log(statements.map((s) => `${s};`).join('\n'));
  }
} else if (process.argv.includes('--variables')) {
  const roles = LOCAL_PREFIXES.flatMap((prefix) =>
    CASSANDRA_SERVICES.map((service) => cassandraPasswordVariable(service, prefix)),
  );
  console.log(['IM_CASSANDRA_ADMIN_PASS', ...roles].join('\n'));
} else if (process.argv.includes('--local')) {
  await setUpLocal();
} else {
  console.error('usage: node tools/cassandra-roles.mjs --print [--prefix X] | --variables | --local');
  process.exit(64);
}

async function setUpLocal() {
  const env = (name) => {
    if (!process.env[name]) throw new Error(`${name} is not set`);
    return process.env[name];
  };
  const adminPass = env('IM_CASSANDRA_ADMIN_PASS');
  const connectAs = async (username, password) => {
    const client = await connectCassandra({
      contactPoints: env('CASSANDRA_CONTACT_POINTS').split(','),
      localDataCenter: 'datacenter1',
      username,
      password,
      consistency: 'ONE',
      logger: pino({ level: 'silent' }),
    });
    try {
      await client.execute('SELECT release_version FROM system.local');
      return client;
    } catch (err) {
      await client.shutdown();
      throw err;
    }
  };
  const quoted = (s) => `'${s.replaceAll("'", "''")}'`;
  // statements carrying passwords are not prepared (Cassandra keeps prepared statements' text)
  const run = (client, cql) => client.execute(cql, [], { prepare: false });
  const tryLogin = (username, password) =>
    connectAs(username, password).then(
      (client) => client,
      () => undefined,
    );
  let admin;
  const deadline = Date.now() + 90_000;
  while (!admin) {
    if (Date.now() > deadline) throw new Error(`neither ${ADMIN} nor the default superuser can log in`);
    admin = await tryLogin(ADMIN, adminPass);
    if (admin) break;
    // a fresh node has only the default superuser (made shortly after start): add ours with it
    const initial = await tryLogin('cassandra', 'cassandra');
    if (initial) {
      try {
        await run(
          initial,
          `CREATE ROLE IF NOT EXISTS ${quoted(ADMIN)} WITH SUPERUSER = true AND LOGIN = true AND PASSWORD = ${quoted(adminPass)}`,
        );
        await run(initial, `ALTER ROLE ${quoted(ADMIN)} WITH PASSWORD = ${quoted(adminPass)}`);
      } finally {
        await initial.shutdown();
      }
      continue;
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  try {
    // every run: the default superuser's well-known password must not open the node
    await run(admin, `ALTER ROLE 'cassandra' WITH LOGIN = false`).catch((err) => {
      if (!/doesn't exist|does not exist/i.test(err.message)) throw err;
    });
    for (const prefix of LOCAL_PREFIXES) {
      for (const service of CASSANDRA_SERVICES) {
        const password = env(cassandraPasswordVariable(service, prefix));
        for (const statement of cassandraRoleStatements({ service, prefix, replication: '1', password })) {
          await run(admin, statement);
        }
        // the passwords file is the truth (deploy/local sets a zero interval between changes)
        await run(
          admin,
          `ALTER ROLE ${quoted(cassandraRoleOf(service, prefix))} WITH PASSWORD = ${quoted(password)}`,
        );
      }
    }
  } finally {
    await admin.shutdown();
  }
}
