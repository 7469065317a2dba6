#!/usr/bin/env node
// Kafka users and ACLs, one user per service with only the topics and groups it needs
// (KAFKA_ACCESS in libs/platform, ADR 0028). Needs the build (npx im-tsc -b).
//   node tools/kafka-access.mjs --print [--prefix X]
//       the kafka-acls.sh commands an administrator runs for a deployment (the users themselves,
//       SCRAM credentials, are made the cluster's way, e.g. kafka-configs.sh)
//   node tools/kafka-access.mjs --print --strimzi --cluster C [--prefix X] [--secret S]
//       Strimzi KafkaUser manifests instead, users and ACLs in one (Strimzi's user operator owns a
//       KafkaUser's ACLs and removes any made beside it); each password comes from key <service>
//       of the chart's Secret S (infrastructure.kafka.existingSecret)
//   node tools/kafka-access.mjs --variables
//       the password variables deploy/local/infra.sh makes
//   node tools/kafka-access.mjs --server-properties
//       deploy/local's SASL users, as server.properties lines, passwords from the environment
//   node tools/kafka-access.mjs --scram
//       the same users' SCRAM-SHA-512 credentials (all but the broker's), one per line, in the
//       form kafka-storage format --add-scram takes
//   node tools/kafka-access.mjs --local
//       what deploy/local/infra.sh runs once Kafka is up: the ACLs of the services' users for the
//       quick start (no prefix) and the own-credentials suites (prefix ownroles), as im-infra-admin
import pino from 'pino';
import { stringify } from 'yaml';
import kafkajs from 'kafkajs';
import {
  createKafka,
  KAFKA_SERVICES,
  kafkaAclCommands,
  kafkaAclsOf,
  kafkaOperationName,
  kafkaPasswordVariable,
  kafkaUserOf,
} from '../libs/platform/dist/src/kafka/index.js';

// deploy/local's users: the quick start's services (no prefix), the own-credentials suites'
// (OWN_CREDENTIALS_PREFIX in libs/testing), an unrestricted one for the test runner and tools, and
// the broker's own (between the broker and its controller); both of the last are super users
const LOCAL_PREFIXES = ['', 'ownroles'];
const ADMIN = { user: 'im-infra-admin', variable: 'IM_KAFKA_ADMIN_PASS' };
const BROKER = { user: 'im-broker', variable: 'IM_KAFKA_BROKER_PASS' };
const SUPER_USERS = new Set([`User:${ADMIN.user}`, `User:${BROKER.user}`]);
const localUsers = () => [
  ADMIN,
  BROKER,
  ...LOCAL_PREFIXES.flatMap((prefix) =>
    KAFKA_SERVICES.map((service) => ({
      user: kafkaUserOf(service, prefix),
      variable: kafkaPasswordVariable(service, prefix),
    })),
  ),
];

const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const env = (name) => {
  if (!process.env[name]) throw new Error(`${name} is not set`);
  return process.env[name];
};
// put in quotes in the JAAS line of server.properties
const password = (name) => {
  if (!/^[A-Za-z0-9]+$/.test(env(name))) throw new Error(`${name} must be letters and digits`);
  return env(name);
};

if (process.argv.includes('--print') && process.argv.includes('--strimzi')) {
  const cluster = arg('--cluster');
  if (!cluster) throw new Error("--strimzi needs --cluster <the Kafka resource's name>");
  for (const service of KAFKA_SERVICES)
    process.stdout.write(`---\n${stringify(strimziUser(service, arg('--prefix') ?? '', cluster))}`);
} else if (process.argv.includes('--print')) {
  for (const service of KAFKA_SERVICES)
    console.log(kafkaAclCommands(service, arg('--prefix') ?? '').join('\n'));
} else if (process.argv.includes('--variables')) {
  console.log(
    localUsers()
      .map((u) => u.variable)
      .join('\n'),
  );
} else if (process.argv.includes('--server-properties')) {
  const plain = 'org.apache.kafka.common.security.plain.PlainLoginModule required';
  const self = `username="${BROKER.user}" password="${password(BROKER.variable)}"`;
  const users = (list) => list.map((u) => `user_${u.user}="${password(u.variable)}"`).join(' ');
  console.log(
    [
      `super.users=User:${BROKER.user};User:${ADMIN.user}`,
      `listener.name.sasl_plaintext.plain.sasl.jaas.config=${plain} ${self} ${users(localUsers())};`,
      `listener.name.controller.plain.sasl.jaas.config=${plain} ${self} ${users([BROKER])};`,
    ].join('\n'),
  );
} else if (process.argv.includes('--scram')) {
  for (const u of localUsers().filter((u) => u !== BROKER))
    console.log(`SCRAM-SHA-512=[name=${u.user},password=${password(u.variable)}]`);
} else if (process.argv.includes('--local')) {
  await makeLocalAcls();
} else {
  console.error(
    'usage: node tools/kafka-access.mjs --print [--prefix X] [--strimzi --cluster C [--secret S]] | --variables | --server-properties | --scram | --local',
  );
  process.exit(64);
}

function strimziUser(service, prefix, cluster) {
  const byResource = new Map();
  for (const a of kafkaAclsOf(service, prefix)) {
    const id = `${a.resource} ${a.name}`;
    if (!byResource.has(id))
      byResource.set(id, {
        resource: { type: a.resource, name: a.name, patternType: 'literal' },
        operations: [],
        host: '*',
      });
    byResource.get(id).operations.push(kafkaOperationName(a.operation));
  }
  return {
    apiVersion: 'kafka.strimzi.io/v1beta2',
    kind: 'KafkaUser',
    metadata: { name: kafkaUserOf(service, prefix), labels: { 'strimzi.io/cluster': cluster } },
    spec: {
      authentication: {
        type: 'scram-sha-512',
        password: {
          valueFrom: { secretKeyRef: { name: arg('--secret') ?? 'im-kafka-credentials', key: service } },
        },
      },
      authorization: { type: 'simple', acls: [...byResource.values()] },
    },
  };
}

async function makeLocalAcls() {
  const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;
  const kafka = createKafka({
    brokers: env('KAFKA_BROKERS').split(','),
    clientId: 'kafka-access',
    logger: pino({ level: 'silent' }),
    auth: { sasl: { mechanism: 'plain', username: ADMIN.user, password: password(ADMIN.variable) } },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const acl = LOCAL_PREFIXES.flatMap((prefix) =>
      KAFKA_SERVICES.flatMap((service) => kafkaAclsOf(service, prefix)),
    ).map((a) => ({
      resourceType: a.resource === 'topic' ? AclResourceTypes.TOPIC : AclResourceTypes.GROUP,
      resourceName: a.name,
      resourcePatternType: ResourcePatternTypes.LITERAL,
      principal: a.principal,
      host: '*',
      operation: AclOperationTypes[a.operation.toUpperCase()],
      permissionType: AclPermissionTypes.ALLOW,
    }));
    // an ACL that exists already is left as it is
    await admin.createAcls({ acl });
    // and one the table no longer has goes, so that this broker allows what a new one would
    const key = (a) =>
      [
        a.principal,
        a.resourceType,
        a.resourceName,
        a.resourcePatternType,
        a.operation,
        a.permissionType,
        a.host,
      ].join(' ');
    const wanted = new Set(acl.map(key));
    const principals = new Set(acl.map((a) => a.principal));
    const { resources } = await admin.describeAcls({
      resourceType: AclResourceTypes.ANY,
      resourcePatternType: ResourcePatternTypes.ANY,
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ANY,
    });
    const stale = resources.flatMap(({ acls, ...resource }) =>
      acls
        .map((a) => ({ ...resource, ...a }))
        // every user's but the super users' is ours to manage on this broker, a user dropped from
        // the table included (it can no longer log in, but its rights should not wait for it)
        .filter((a) => !SUPER_USERS.has(a.principal) && !wanted.has(key(a))),
    );
    if (stale.length > 0) await admin.deleteAcls({ filters: stale });
    console.log(
      `${acl.length} ACLs for ${principals.size} users; ${stale.length} no longer in the table removed`,
    );
  } finally {
    await admin.disconnect();
  }
}
