#!/usr/bin/env node
// Makes the platform's NATS KV buckets, or brings their limits to the services' settings, as an
// operator's NATS user: the services' own users may not create streams (NATS_BUCKETS in
// libs/platform, ADR 0023). Idempotent; run it before the services start and on every upgrade
// (deploy/local/platform.sh does; the chart's nats-buckets job does). Needs the build.
//   NATS_URL=… NATS_USER=… NATS_PASS=… [IM_NAME_PREFIX=…] [ACCESS_TOKEN_TTL_SEC=…] \
//     [GATEWAY_LEASE_TTL_MS=…] [NATS_BUCKET_REPLICAS=1|3|5] node tools/nats-buckets.mjs
// The two settings must be the auth and presence services' own (same names, same defaults).
// Prints one JSON line: each bucket and whether it was created, updated or left unchanged.
import pino from 'pino';
import { loadConfigOrExit, natsBucketProvisioningSchema } from '../libs/platform/dist/src/config/index.js';
import { connectNats, provisionNatsBuckets } from '../libs/platform/dist/src/nats/index.js';
import { createRegistry } from '../libs/platform/dist/src/registry/index.js';

const config = loadConfigOrExit('nats-buckets', natsBucketProvisioningSchema);
const nc = await connectNats({
  servers: config.NATS_URL,
  user: config.NATS_USER,
  pass: config.NATS_PASS,
  name: 'nats-buckets',
  logger: pino({ level: 'error' }),
});
try {
  const buckets = await provisionNatsBuckets(
    nc,
    createRegistry(config.IM_NAME_PREFIX),
    config,
    config.NATS_BUCKET_REPLICAS,
  );
  process.stdout.write(`${JSON.stringify({ buckets })}\n`);
} catch (err) {
  process.stderr.write(`nats-buckets: ${err.message}\n`);
  process.exitCode = 1;
} finally {
  await nc.close();
}
