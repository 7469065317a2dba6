#!/usr/bin/env node
// Reads rendered chart manifests (stdin) and checks that every Deployment's environment — the
// shared ConfigMap plus its own env — is a valid configuration for the service it runs, using the
// service's own config schema. Values from Secrets or the downward API count as set.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const root = fileURLToPath(new URL('..', import.meta.url));
const { loadConfig } = await import(join(root, 'libs/platform/dist/src/config/index.js'));
const { KAFKA_SERVICES } = await import(join(root, 'libs/platform/dist/src/kafka/access.js'));
const { CASSANDRA_SERVICES } = await import(join(root, 'libs/platform/dist/src/cassandra/roles.js'));
const docs = parseAllDocuments(readFileSync(0, 'utf8'))
  .map((d) => d.toJS())
  .filter(Boolean);
// a hook (pre-install, pre-upgrade) runs before the release's own resources are made or updated:
// a hook Job may read only ConfigMaps that are hooks themselves, made before it
const hookWeight = (d) =>
  d.metadata.annotations?.['helm.sh/hook']
    ? Number(d.metadata.annotations['helm.sh/hook-weight'] ?? 0)
    : undefined;
const runsBefore = (d) => /\bpre-(install|upgrade)\b/.test(d.metadata.annotations?.['helm.sh/hook'] ?? '');
for (const job of docs.filter((d) => d.kind === 'Job' && runsBefore(d))) {
  for (const c of job.spec.template.spec.containers) {
    for (const from of (c.envFrom ?? []).filter((f) => f.configMapRef)) {
      const cm = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === from.configMapRef?.name);
      if (!cm || hookWeight(cm) === undefined || hookWeight(cm) >= hookWeight(job)) {
        console.error(
          `hook Job ${job.metadata.name} reads ConfigMap ${from.configMapRef?.name}, which is not a hook made before it`,
        );
        process.exit(1);
      }
    }
  }
}
const configMaps = new Map(
  docs.filter((d) => d.kind === 'ConfigMap').map((d) => [d.metadata.name, d.data ?? {}]),
);
let checked = 0;
const deployed = new Set();
const withKafkaLogin = new Set();
const migrated = new Set();
const natsBucketJobs = [];
const deploymentEnv = {};
for (const d of docs.filter((x) => x.kind === 'Deployment' || x.kind === 'Job')) {
  for (const c of d.spec.template.spec.containers) {
    if (c.command.join(' ') === 'node tools/nats-buckets.mjs') {
      // the operator's job that provisions the NATS buckets (ADR 0023): checked below
      natsBucketJobs.push(
        Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? secretPlaceholder(e.name)])),
      );
      continue;
    }
    const service = /services\/([a-z]+)\//.exec(c.command.join(' '))?.[1];
    if (!service) throw new Error(`${d.metadata.name}: cannot tell which service it runs`);
    const env = {};
    for (const from of c.envFrom ?? []) Object.assign(env, configMaps.get(from.configMapRef.name) ?? {});
    for (const e of c.env ?? []) env[e.name] = e.value ?? secretPlaceholder(e.name);
    if (d.kind === 'Deployment') deployed.add(service);
    if (d.kind === 'Deployment') deploymentEnv[service] = env;
    if (d.kind === 'Job' && env.MIGRATE_ONLY === 'true') migrated.add(service);
    if (d.kind === 'Deployment' && env.KAFKA_USERNAME) withKafkaLogin.add(service);
    const mod = await import(join(root, `services/${service}/dist/src/config.js`));
    const schema = Object.values(mod).find((v) => v && typeof v === 'object' && 'shape' in v);
    try {
      loadConfig(schema, env);
    } catch (err) {
      console.error(`${d.kind} ${d.metadata.name} (${service}): ${err.message}`);
      process.exit(1);
    }
    // every file a variable names under /etc/im is mounted (a migration Job calls no gRPC, so it
    // needs no certificate)
    const mounts = (c.volumeMounts ?? []).map((m) => m.mountPath);
    for (const [name, value] of Object.entries(env)) {
      if (!/_(FILE|DIR)$/.test(name) || !String(value).startsWith('/etc/im/')) continue;
      if (name === 'GRPC_TLS_DIR' && env.MIGRATE_ONLY === 'true') continue;
      if (!mounts.some((m) => String(value) === m || String(value).startsWith(`${m}/`))) {
        console.error(`${d.kind} ${d.metadata.name} (${service}): ${name}=${value} is not mounted`);
        process.exit(1);
      }
    }
    checked++;
  }
}
// with a Kafka Secret, exactly the services of KAFKA_ACCESS log in (the chart keeps its own list)
const kafkaExpected = KAFKA_SERVICES.filter((s) => deployed.has(s)).sort();
if (withKafkaLogin.size > 0 && [...withKafkaLogin].sort().join() !== kafkaExpected.join()) {
  console.error(
    `Kafka logins for ${[...withKafkaLogin].sort()}, but KAFKA_SERVICES deployed: ${kafkaExpected}`,
  );
  process.exit(1);
}
// with migrations on, every deployed service with a keyspace has its migration Job (and no other)
const migratedExpected = CASSANDRA_SERVICES.filter((s) => deployed.has(s)).sort();
if (migrated.size > 0 && [...migrated].sort().join() !== migratedExpected.join()) {
  console.error(
    `migration Jobs for ${[...migrated].sort()}, but CASSANDRA_SERVICES deployed: ${migratedExpected}`,
  );
  process.exit(1);
}
// the bucket provisioning: one Job, valid settings, and the same prefix and bucket settings as the
// services that use the buckets (else every start logs drift and the TTLs are not theirs)
const { natsBucketProvisioningSchema } = await import(join(root, 'libs/platform/dist/src/config/index.js'));
const fail = (message) => {
  console.error(`nats-buckets Job: ${message}`);
  process.exit(1);
};
if (natsBucketJobs.length !== 1) fail(`${natsBucketJobs.length} rendered, want one`);
const job = natsBucketJobs[0];
try {
  loadConfig(natsBucketProvisioningSchema, job);
} catch (err) {
  fail(err.message);
}
const sameAs = (service, key) => {
  const want = deploymentEnv[service]?.[key];
  if (deploymentEnv[service] && job[key] !== want)
    fail(`${key} is ${job[key] ?? 'unset'}, the ${service} Deployment's ${want ?? 'unset'}`);
};
sameAs('auth', 'IM_NAME_PREFIX');
sameAs('auth', 'NATS_URL');
sameAs('auth', 'ACCESS_TOKEN_TTL_SEC');
sameAs('presence', 'GATEWAY_LEASE_TTL_MS');
console.log(`[helm-check] ${checked} workloads get a valid configuration for their service`);

/** A value of the right form for a variable the pod reads from a Secret (its value is not in the chart). */
function secretPlaceholder(name) {
  if (name.endsWith('_KEY')) return 'A'.repeat(43);
  if (name === 'SMTP_URL') return 'smtps://user:secret@mail.example:465';
  return 'value-from-a-secret-or-the-pod-spec';
}
