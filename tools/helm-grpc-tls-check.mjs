#!/usr/bin/env node
// Reads rendered chart manifests (stdin) and checks the internal plane's mutual TLS: the gRPC
// wiring the Deployments are given (*_GRPC_ADDR) is the one the services enforce (GRPC_WIRING in
// libs/platform), every service mounts its certificate Secret at GRPC_TLS_DIR, and, when the chart
// makes the certificates (cert-manager), each names its service (CN and DNS SAN) and comes from
// the chart's CA issuer. --plaintext: grpcTls.enabled=false renders no certificates and says so.
// --own-secrets: certificates are brought by the operator (none rendered).
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { GRPC_WIRING } from '../libs/platform/dist/src/grpc/identity.js';

const docs = parseAllDocuments(readFileSync(0, 'utf8'))
  .map((d) => d.toJS())
  .filter(Boolean);
const fail = (message) => {
  console.error(`[helm-check] gRPC TLS: ${message}`);
  process.exit(1);
};
const component = (labels) => labels?.['app.kubernetes.io/component'];
const deployments = docs.filter((d) => d.kind === 'Deployment');
const certificates = docs.filter((d) => d.kind === 'Certificate');
const release = deployments[0]?.metadata.labels['app.kubernetes.io/instance'];
const envOf = (d) => Object.fromEntries(d.spec.template.spec.containers[0].env.map((e) => [e.name, e.value]));

if (process.argv.includes('--plaintext')) {
  if (certificates.length) fail(`${certificates.length} certificates rendered with grpcTls.enabled=false`);
  for (const d of deployments)
    if (envOf(d).GRPC_ALLOW_PLAINTEXT !== 'true') fail(`${d.metadata.name}: no GRPC_ALLOW_PLAINTEXT`);
  console.log('[helm-check] gRPC in plaintext only when grpcTls is switched off, and then explicitly');
  process.exit(0);
}

const running = new Set(deployments.map((d) => component(d.spec.template.metadata.labels)));
for (const d of deployments) {
  const name = component(d.spec.template.metadata.labels);
  const env = envOf(d);
  const calls = Object.entries(env)
    .filter(([k, v]) => k.endsWith('_GRPC_ADDR') && v)
    .map(([k]) => k.slice(0, -'_GRPC_ADDR'.length).toLowerCase())
    .sort();
  const wired = GRPC_WIRING[name] ?? [];
  const refused = calls.filter((s) => !wired.includes(s));
  const missing = wired.filter((s) => running.has(s) && !calls.includes(s));
  if (refused.length || missing.length)
    fail(`${name} is given [${calls}]; the services let it call [${wired}] (GRPC_WIRING)`);
  const dir = env.GRPC_TLS_DIR;
  if (!dir) fail(`${name}: no GRPC_TLS_DIR`);
  const pod = d.spec.template.spec;
  const mount = pod.containers[0].volumeMounts.find((m) => m.mountPath === dir);
  const secret = pod.volumes.find((v) => v.name === mount?.name)?.secret?.secretName;
  if (!secret) fail(`${name}: nothing mounted at GRPC_TLS_DIR ${dir}`);
  if (secret !== `${release}-${name}-grpc-tls`) fail(`${name}: mounts ${secret}, not its own certificate`);
  if (process.argv.includes('--own-secrets')) continue;
  const cert = certificates.find((c) => c.spec.secretName === secret);
  if (!cert) fail(`${name}: no Certificate makes ${secret}`);
  if (cert.spec.commonName !== name || cert.spec.dnsNames?.join() !== name)
    fail(`${name}: its certificate names ${cert.spec.commonName} / ${cert.spec.dnsNames}`);
  const issuer = docs.find((x) => x.kind === 'Issuer' && x.metadata.name === cert.spec.issuerRef.name);
  const ca = certificates.find((c) => c.spec.secretName === issuer?.spec.ca?.secretName);
  if (!ca?.spec.isCA) fail(`${name}: its issuer is not the chart's CA`);
}
if (process.argv.includes('--own-secrets') && certificates.length)
  fail('certificates rendered with certManager off');
if (!process.argv.includes('--own-secrets') && !certificates.some((c) => c.spec.commonName === 'operator'))
  fail('no certificate for the operators (im-admin)');
console.log(
  `[helm-check] ${deployments.length} services present their own certificate; the wiring they are given is the one they enforce`,
);
