import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { natsUserOf } from '@im/platform/nats';
import { repoRoot } from './paths.js';
import type { ServiceName } from './service-process.js';

const SERVICES: ServiceName[] = ['gateway', 'auth', 'presence', 'message', 'media', 'notification'];

/**
 * NATS_USER and NATS_PASS of every service as its own user of deploy/local's NATS (ADR 0023), for
 * the name prefixes deploy/local/nats/authorization.conf lists; as Platform `env`.
 */
export async function localNatsUsers(prefix: string): Promise<Record<ServiceName, Record<string, string>>> {
  const script = join(repoRoot(), 'deploy/local/infra.sh');
  const { stdout } = await promisify(execFile)('bash', [script, 'env']);
  const vars = Object.fromEntries(
    [...stdout.matchAll(/^export (IM_NATS_PASS_[A-Z]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]),
  );
  const out = {} as Record<ServiceName, Record<string, string>>;
  for (const service of SERVICES) {
    const pass = vars[`IM_NATS_PASS_${service.toUpperCase()}`];
    if (!pass) throw new Error(`deploy/local/infra.sh env gives no NATS password for ${service}`);
    out[service] = { NATS_USER: natsUserOf(service, prefix), NATS_PASS: pass };
  }
  return out;
}
