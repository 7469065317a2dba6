import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cassandraPasswordVariable, cassandraRoleOf } from '@im/platform/cassandra';
import { kafkaPasswordVariable, kafkaUserOf } from '@im/platform/kafka';
import { natsPasswordVariable, natsUserOf } from '@im/platform/nats';
import { repoRoot } from './paths.js';
import type { ServiceName } from './service-process.js';

const SERVICES: ServiceName[] = ['gateway', 'auth', 'presence', 'message', 'media', 'notification'];

/** The name prefix deploy/local has NATS and Kafka users and Cassandra roles for, besides none. */
export const OWN_CREDENTIALS_PREFIX = 'ownroles';

/**
 * Every service's own NATS user, Cassandra role and Kafka user in deploy/local (ADR 0023, 0024,
 * 0028), as Platform `env`: NATS_USER/NATS_PASS for those that use NATS, CASSANDRA_USERNAME/PASSWORD
 * for those with a keyspace, KAFKA_USERNAME/PASSWORD for those that use Kafka.
 */
export async function localServiceCredentials(
  prefix = OWN_CREDENTIALS_PREFIX,
): Promise<Record<ServiceName, Record<string, string>>> {
  const script = join(repoRoot(), 'deploy/local/infra.sh');
  const { stdout } = await promisify(execFile)('bash', [script, 'env']);
  const vars = Object.fromEntries(
    [...stdout.matchAll(/^export (IM_(?:NATS|CASSANDRA|KAFKA)_PASS_[A-Z_]+)=(.*)$/gm)].map((m) => [
      m[1]!,
      m[2]!,
    ]),
  );
  const out = {} as Record<ServiceName, Record<string, string>>;
  for (const service of SERVICES) {
    out[service] = {};
    const nats = vars[natsPasswordVariable(service, prefix)];
    if (nats) Object.assign(out[service], { NATS_USER: natsUserOf(service, prefix), NATS_PASS: nats });
    const cassandra = vars[cassandraPasswordVariable(service, prefix)];
    if (cassandra) {
      out[service].CASSANDRA_USERNAME = cassandraRoleOf(service, prefix);
      out[service].CASSANDRA_PASSWORD = cassandra;
    }
    const kafka = vars[kafkaPasswordVariable(service, prefix)];
    if (kafka)
      Object.assign(out[service], { KAFKA_USERNAME: kafkaUserOf(service, prefix), KAFKA_PASSWORD: kafka });
  }
  if (!out.gateway.NATS_USER || !out.message.CASSANDRA_USERNAME || !out.message.KAFKA_USERNAME) {
    throw new Error(`deploy/local/infra.sh env has no credentials for the prefix "${prefix}"`);
  }
  return out;
}
