#!/usr/bin/env node
// Writes docs/configuration.md from the services' config schemas (the same zod objects that
// validate the environment at start-up), or with --check fails when the file is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const target = join(root, 'docs/configuration.md');
const { describeConfig } = await import(join(root, 'libs/platform/dist/src/config/index.js'));

const services = ['gateway', 'auth', 'message', 'presence', 'media', 'notification'];
let out = `# Configuration

Every service is configured by environment variables only, validated at start-up: a missing or
malformed value stops the process with exit code 78 and a message naming the variable.
Empty values count as unset. This file is generated from the schemas
(\`node tools/config-docs.mjs\`); the test suite fails when it is stale.
`;
for (const service of services) {
  const mod = await import(join(root, `services/${service}/dist/src/config.js`));
  const schema = Object.values(mod).find((v) => v && typeof v === 'object' && 'shape' in v);
  out += `\n## ${service}\n\n| variable | required | default | description |\n| --- | --- | --- | --- |\n`;
  for (const row of describeConfig(schema)) {
    const def = row.default === undefined || row.default === '' ? '' : `\`${row.default}\``;
    out += `| \`${row.name}\` | ${row.required ? 'yes' : ''} | ${def} | ${row.description.replaceAll('|', '\\|')} |\n`;
  }
}

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    /* missing */
  }
  if (current !== out) {
    console.error('docs/configuration.md is stale: run `node tools/config-docs.mjs` and commit it');
    process.exit(1);
  }
  console.log('docs/configuration.md is up to date');
} else {
  writeFileSync(target, out);
  console.log(`wrote ${target}`);
}
