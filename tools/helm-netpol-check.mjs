#!/usr/bin/env node
// Reads rendered chart manifests (stdin) and checks the NetworkPolicies against the wiring the
// Deployments actually use: every service whose gRPC address some Deployment is given (a
// *_GRPC_ADDR variable) lets exactly the pods of those callers reach its gRPC port, and every
// service Deployment is under a policy (default deny for the rest). With --none, checks that no
// policy is rendered (networkPolicy.enabled=false).
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

const docs = parseAllDocuments(readFileSync(0, 'utf8'))
  .map((d) => d.toJS())
  .filter(Boolean);
const policies = docs.filter((d) => d.kind === 'NetworkPolicy');
const fail = (message) => {
  console.error(`[helm-check] network policies: ${message}`);
  process.exit(1);
};
if (process.argv.includes('--none')) {
  if (policies.length > 0) fail(`${policies.length} rendered with networkPolicy.enabled=false`);
  console.log('[helm-check] no network policies when they are switched off');
  process.exit(0);
}

const component = (labels) => labels?.['app.kubernetes.io/component'];
const deployments = docs.filter((d) => d.kind === 'Deployment');
const release = deployments[0]?.metadata.labels['app.kubernetes.io/instance'];
/** callee component -> the caller components that are given its gRPC address */
const callers = new Map();
for (const d of deployments) {
  const caller = component(d.spec.template.metadata.labels);
  for (const e of d.spec.template.spec.containers.flatMap((c) => c.env ?? [])) {
    const callee = /^dns:\/\/\/(.+)-grpc:50051$/.exec(e.value ?? '')?.[1]?.slice(release.length + 1);
    if (!e.name.endsWith('_GRPC_ADDR') || !callee) continue;
    if (!deployments.some((x) => component(x.spec.template.metadata.labels) === callee)) continue;
    callers.set(callee, new Set([...(callers.get(callee) ?? []), caller]));
  }
}
for (const d of deployments) {
  const name = component(d.spec.template.metadata.labels);
  const own = policies.filter((p) => component(p.spec.podSelector.matchLabels) === name);
  if (own.length !== 1) fail(`${name} is selected by ${own.length} policies, not 1`);
  const p = own[0];
  if (!p.spec.policyTypes.includes('Ingress')) fail(`${name}: not an ingress policy`);
  const rules = p.spec.ingress ?? [];
  const grpcFrom = rules
    .filter((r) => (r.ports ?? []).some((port) => port.port === 'grpc'))
    .flatMap((r) => r.from ?? [{ anyone: true }]);
  if (grpcFrom.some((f) => !f.podSelector || f.namespaceSelector || f.ipBlock))
    fail(`${name}: its gRPC port is open to more than pods of this release`);
  const allowed = new Set(grpcFrom.map((f) => component(f.podSelector.matchLabels)));
  const expected = callers.get(name) ?? new Set();
  const show = (s) => [...s].sort().join(', ') || 'none';
  if (show(allowed) !== show(expected))
    fail(`${name}: gRPC allowed from [${show(allowed)}], but called by [${show(expected)}]`);
  for (const r of rules)
    for (const port of r.ports ?? [])
      if (!['grpc', 'http', 'public'].includes(port.port)) fail(`${name}: unexpected port ${port.port}`);
  if (rules.some((r) => !r.ports)) fail(`${name}: a rule without ports opens every port`);
}
console.log(
  `[helm-check] ${policies.length} network policies match the gRPC wiring (${[...callers]
    .map(([callee, from]) => `${callee} <- ${[...from].sort().join('+')}`)
    .join('; ')})`,
);
