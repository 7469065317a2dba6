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
  // per component: the login variables, the password variable and the user name of a service
  const components = [
    ['NATS_USER', 'NATS_PASS', natsPasswordVariable, natsUserOf],
    ['CASSANDRA_USERNAME', 'CASSANDRA_PASSWORD', cassandraPasswordVariable, cassandraRoleOf],
    ['KAFKA_USERNAME', 'KAFKA_PASSWORD', kafkaPasswordVariable, kafkaUserOf],
  ] as const;
  const out = {} as Record<ServiceName, Record<string, string>>;
  for (const service of SERVICES) {
    out[service] = {};
    for (const [userVar, passVar, passwordOf, userOf] of components) {
      const password = vars[passwordOf(service, prefix)];
      // a service without a login of its own gets none (empty is unset), not the runner's admin one
      out[service][userVar] = password ? userOf(service, prefix) : '';
      out[service][passVar] = password ?? '';
    }
  }
  if (!out.gateway.NATS_USER || !out.message.CASSANDRA_USERNAME || !out.message.KAFKA_USERNAME) {
    throw new Error(`deploy/local/infra.sh env has no credentials for the prefix "${prefix}"`);
  }
  return out;
}
