#!/usr/bin/env node
// Renders the NATS server's `authorization` block from NATS_ACCESS (libs/platform, ADR 0023):
// one user per service with only the subjects it needs. Needs the build (npx im-tsc -b).
//   node tools/nats-auth.mjs                      writes deploy/local/nats/authorization.conf
//   node tools/nats-auth.mjs --check              fails when that file differs from the table
//   node tools/nats-auth.mjs --print [--prefix X] [--admin-user NAME]
//                                                 prints it for a NATS of your own (the chart's namePrefix)
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderNatsAuthorization } from '../libs/platform/dist/src/nats/index.js';

// deploy/local/infra.sh's users: the quick start's platform (no prefix), the prefix of
// the own-credentials suites (OWN_CREDENTIALS_PREFIX in libs/testing), and an unrestricted user for
// the test runner and tools
const LOCAL = { prefixes: ['', 'ownroles'], adminUser: 'im-infra-admin' };
const LOCAL_FILE = join(dirname(fileURLToPath(import.meta.url)), '../deploy/local/nats/authorization.conf');

const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};

if (process.argv.includes('--print')) {
  const adminUser = arg('--admin-user');
  process.stdout.write(
    renderNatsAuthorization({ prefixes: [arg('--prefix') ?? ''], ...(adminUser ? { adminUser } : {}) }),
  );
} else if (process.argv.includes('--check')) {
  if (readFileSync(LOCAL_FILE, 'utf8') !== renderNatsAuthorization(LOCAL)) {
    console.error(`${LOCAL_FILE} differs from NATS_ACCESS: run node tools/nats-auth.mjs`);
    process.exit(1);
  }
} else {
  writeFileSync(LOCAL_FILE, renderNatsAuthorization(LOCAL));
  console.log(`wrote ${LOCAL_FILE}`);
}
