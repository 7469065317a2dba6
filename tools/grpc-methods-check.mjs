#!/usr/bin/env node
// Compares the gRPC methods each service's clients call with what GRPC_METHODS_OF lets it call
// (libs/platform/src/grpc/identity.ts, ADR 0021): a call the table lacks is refused in production
// ("permission_denied"), a grant nobody calls is a right a compromised pod need not have. Reads the
// sources (each client is `x = createGrpcClient(<Target>ServiceService, ...)`, called as `x.m(`);
// the gateway may call anything and is not checked. Needs the build (npx im-tsc -b).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GRPC_METHODS_OF } from '../libs/platform/dist/src/grpc/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const sources = (dir) =>
  readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts'))
    .map((e) => join(e.parentPath, e.name));

/** caller -> target -> methods called, from the sources of every service but the gateway. */
const called = {};
for (const service of readdirSync(join(root, 'services'))) {
  if (service === 'gateway') continue;
  for (const file of sources(join(root, 'services', service, 'src'))) {
    const text = readFileSync(file, 'utf8');
    // im-admin, the operators' CLI, calls auth as "operator"
    const caller = /\/cli\//.test(file) ? 'operator' : service;
    for (const m of text.matchAll(/(?:this\.)?(\w+) = createGrpcClient\((\w+)ServiceService/g)) {
      const [, variable, target] = m;
      const name = target.toLowerCase();
      const calls = [...text.matchAll(new RegExp(`(?:this\\.)?\\b${variable}\\.(\\w+)\\(`, 'g'))]
        .map((c) => c[1])
        .filter((method) => method !== 'close');
      if (calls.length === 0) throw new Error(`${relative(root, file)}: no calls found on ${variable}`);
      const set = ((called[caller] ??= {})[name] ??= new Set());
      for (const method of calls) set.add(method);
    }
  }
}

const problems = [];
for (const [caller, byTarget] of Object.entries(called)) {
  for (const [target, methods] of Object.entries(byTarget)) {
    const allowed = new Set(GRPC_METHODS_OF[caller]?.[target] ?? []);
    for (const method of methods)
      if (!allowed.has(method))
        problems.push(`${caller} calls ${target}.${method}, which GRPC_METHODS_OF does not allow`);
  }
}
for (const [caller, byTarget] of Object.entries(GRPC_METHODS_OF)) {
  for (const [target, methods] of Object.entries(byTarget)) {
    for (const method of methods)
      if (!called[caller]?.[target]?.has(method))
        problems.push(`${caller} may call ${target}.${method} but never does: drop it from GRPC_METHODS_OF`);
  }
}
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
const pairs = Object.values(called).reduce((n, t) => n + Object.values(t).reduce((k, s) => k + s.size, 0), 0);
console.log(`[grpc] the ${pairs} methods the services call are exactly the ones GRPC_METHODS_OF allows`);
