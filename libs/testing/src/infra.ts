import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './paths.js';

const run = promisify(execFile);

/** Where the real Kafka, Cassandra, NATS, OpenSearch and S3 store of a test run are. */
export interface InfraEndpoints {
  source: 'env' | 'testcontainers' | 'local';
  kafkaBrokers: string[];
  /** The SASL login of the test runner and tools (deploy/local: the unrestricted im-infra-admin). */
  kafkaLogin?: { username: string; password: string; mechanism: string } | undefined;
  cassandraContactPoints: string[];
  cassandraLocalDc: string;
  cassandraUsername?: string | undefined;
  cassandraPassword?: string | undefined;
  natsUrl: string;
  natsUser?: string | undefined;
  natsPass?: string | undefined;
  opensearchUrl: string;
  /** deploy/local's second Kafka listener, SCRAM-SHA-512 over TLS (the chart's default shape). */
  kafkaTls?: { brokers: string; caFile: string } | undefined;
  /** S3 object storage (media): endpoint, region and keys. */
  s3: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string };
  stop(): Promise<void>;
}

/**
 * Finds the infrastructure for a test run, in this order:
 *  1. endpoints from the environment (KAFKA_BROKERS, CASSANDRA_CONTACT_POINTS, NATS_URL,
 *     OPENSEARCH_URL, S3_ENDPOINT with S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY), e.g. a CI
 *     service or a shared cluster;
 *  2. Testcontainers, when a container runtime answers (and IM_INFRA is not "local");
 *  3. deploy/local/infra.sh: NATS, Kafka, Cassandra, OpenSearch and versitygw as local processes
 *     (installed on first use).
 * The test runner calls this once per run and hands the endpoints to every test process through
 * the environment, so each run starts the servers at most once.
 */
export async function resolveInfra(env: NodeJS.ProcessEnv = process.env): Promise<InfraEndpoints> {
  if (
    env.KAFKA_BROKERS &&
    env.CASSANDRA_CONTACT_POINTS &&
    env.NATS_URL &&
    env.OPENSEARCH_URL &&
    env.S3_ENDPOINT &&
    env.S3_ACCESS_KEY_ID &&
    env.S3_SECRET_ACCESS_KEY
  ) {
    return {
      source: 'env',
      kafkaBrokers: env.KAFKA_BROKERS.split(','),
      kafkaLogin:
        env.KAFKA_USERNAME && env.KAFKA_PASSWORD
          ? {
              username: env.KAFKA_USERNAME,
              password: env.KAFKA_PASSWORD,
              mechanism: env.KAFKA_SASL_MECHANISM ?? 'scram-sha-512',
            }
          : undefined,
      cassandraContactPoints: env.CASSANDRA_CONTACT_POINTS.split(','),
      cassandraLocalDc: env.CASSANDRA_LOCAL_DC ?? 'datacenter1',
      cassandraUsername: env.CASSANDRA_USERNAME,
      cassandraPassword: env.CASSANDRA_PASSWORD,
      natsUrl: env.NATS_URL,
      natsUser: env.NATS_USER,
      natsPass: env.NATS_PASS,
      opensearchUrl: env.OPENSEARCH_URL,
      kafkaTls:
        env.IM_KAFKA_TLS_BROKERS && env.IM_KAFKA_TLS_CA_FILE
          ? { brokers: env.IM_KAFKA_TLS_BROKERS, caFile: env.IM_KAFKA_TLS_CA_FILE }
          : undefined,
      s3: {
        endpoint: env.S3_ENDPOINT,
        region: env.S3_REGION ?? 'us-east-1',
        accessKeyId: env.S3_ACCESS_KEY_ID,
        secretAccessKey: env.S3_SECRET_ACCESS_KEY,
      },
      stop: async () => undefined,
    };
  }
  if (env.IM_INFRA !== 'local' && (await containerRuntimeAnswers())) {
    try {
      return await startContainers();
    } catch (err) {
      // Images come from a registry; offline the pull fails even with a runtime.
      process.stderr.write(`[infra] Testcontainers failed (${(err as Error).message}); using deploy/local\n`);
    }
  }
  return startLocal();
}

/** The variables a service process needs to reach the infrastructure. */
export function infraEnv(infra: InfraEndpoints): Record<string, string> {
  const out: Record<string, string> = {
    KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    CASSANDRA_CONTACT_POINTS: infra.cassandraContactPoints.join(','),
    CASSANDRA_LOCAL_DC: infra.cassandraLocalDc,
    NATS_URL: infra.natsUrl,
    OPENSEARCH_URL: infra.opensearchUrl,
    S3_ENDPOINT: infra.s3.endpoint,
    S3_REGION: infra.s3.region,
    S3_ACCESS_KEY_ID: infra.s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: infra.s3.secretAccessKey,
  };
  if (infra.kafkaLogin) {
    out.KAFKA_USERNAME = infra.kafkaLogin.username;
    out.KAFKA_PASSWORD = infra.kafkaLogin.password;
    out.KAFKA_SASL_MECHANISM = infra.kafkaLogin.mechanism;
  }
  if (infra.cassandraUsername) out.CASSANDRA_USERNAME = infra.cassandraUsername;
  if (infra.cassandraPassword) out.CASSANDRA_PASSWORD = infra.cassandraPassword;
  if (infra.natsUser) out.NATS_USER = infra.natsUser;
  if (infra.natsPass) out.NATS_PASS = infra.natsPass;
  if (infra.kafkaTls) {
    out.IM_KAFKA_TLS_BROKERS = infra.kafkaTls.brokers;
    out.IM_KAFKA_TLS_CA_FILE = infra.kafkaTls.caFile;
  }
  return out;
}

async function containerRuntimeAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await Promise.race([
      getContainerRuntimeClient(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 5_000)),
    ]);
    return true;
  } catch {
    return false;
  }
}

async function startContainers(): Promise<InfraEndpoints> {
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const { CassandraContainer } = await import('@testcontainers/cassandra');
  const { NatsContainer } = await import('@testcontainers/nats');
  const { GenericContainer, Wait } = await import('testcontainers');
  const [kafka, cassandra, nats, search] = await Promise.all([
    new KafkaContainer(process.env.IM_KAFKA_IMAGE ?? 'confluentinc/cp-kafka:7.9.0').withKraft().start(),
    new CassandraContainer(process.env.IM_CASSANDRA_IMAGE ?? 'cassandra:5.0.8').start(),
    new NatsContainer(process.env.IM_NATS_IMAGE ?? 'nats:2.12.6-alpine').withJetStream().start(),
    new GenericContainer(process.env.IM_OPENSEARCH_IMAGE ?? 'opensearchproject/opensearch:2.19.4')
      .withEnvironment({
        'discovery.type': 'single-node',
        DISABLE_SECURITY_PLUGIN: 'true',
        OPENSEARCH_JAVA_OPTS: '-Xms512m -Xmx512m',
      })
      .withExposedPorts(9200)
      .withWaitStrategy(Wait.forHttp('/_cluster/health', 9200).forStatusCode(200))
      .start(),
  ]);
  const natsOpts = nats.getConnectionOptions() as {
    servers: string | string[];
    user?: string;
    pass?: string;
  };
  return {
    source: 'testcontainers',
    kafkaBrokers: [`${kafka.getHost()}:${kafka.getMappedPort(9093)}`],
    cassandraContactPoints: [cassandra.getContactPoint()],
    cassandraLocalDc: cassandra.getDatacenter(),
    cassandraUsername: cassandra.getUsername(),
    cassandraPassword: cassandra.getPassword(),
    natsUrl: `nats://${([] as string[]).concat(natsOpts.servers)[0]!.replace(/^nats:\/\//, '')}`,
    natsUser: natsOpts.user,
    natsPass: natsOpts.pass,
    opensearchUrl: `http://${search.getHost()}:${search.getMappedPort(9200)}`,
    // no versitygw image is published: the S3 store runs as a local process beside the containers
    s3: (await startLocalS3()).s3,
    stop: async () => {
      await Promise.allSettled([kafka.stop(), cassandra.stop(), nats.stop(), search.stop()]);
    },
  };
}

async function startLocalS3(): Promise<{ s3: InfraEndpoints['s3'] }> {
  const script = join(repoRoot(), 'deploy/local/infra.sh');
  await run('bash', [script, 'start', 's3'], { maxBuffer: 16 * 1024 * 1024, timeout: 10 * 60_000 });
  const vars = readEnvFile((await run('bash', [script, 'env'])).stdout);
  return {
    s3: {
      endpoint: vars.S3_ENDPOINT!,
      region: vars.S3_REGION ?? 'us-east-1',
      accessKeyId: vars.S3_ACCESS_KEY_ID!,
      secretAccessKey: vars.S3_SECRET_ACCESS_KEY!,
    },
  };
}

/** The variables of an `export NAME=value` file (deploy/local/infra.sh env). */
function readEnvFile(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .map((line) => /^export ([A-Z0-9_]+)=(.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  );
}

/**
 * Starts deploy/local/infra.sh and stops, after the run, what this run started (also when the
 * start-up failed half-way). Servers that were already running are left alone, and
 * IM_KEEP_INFRA=1 keeps everything up for fast re-runs (`deploy/local/infra.sh down` stops it).
 */
async function startLocal(): Promise<InfraEndpoints> {
  const script = join(repoRoot(), 'deploy/local/infra.sh');
  const wasRunning = await run('bash', [script, 'status']).then(
    () => true,
    () => false,
  );
  const keep = wasRunning || process.env.IM_KEEP_INFRA === '1';
  const down = async () => {
    if (!keep) await run('bash', [script, 'down'], { timeout: 5 * 60_000 }).catch(() => undefined);
  };
  try {
    await run('bash', [script, 'up'], { maxBuffer: 16 * 1024 * 1024, timeout: 20 * 60_000 });
  } catch (err) {
    await down();
    const e = err as { stderr?: string; message: string };
    throw new Error(`deploy/local/infra.sh up failed: ${e.stderr?.trim() || e.message}`);
  }
  const envFile = join(process.env.IM_RUN_DIR ?? join(repoRoot(), '.run'), 'infra/env');
  if (!existsSync(envFile)) {
    await down();
    throw new Error(`${envFile} missing after infra.sh up`);
  }
  const vars = readEnvFile(readFileSync(envFile, 'utf8'));
  const endpoints = await resolveInfra({ ...vars, IM_INFRA: 'local' });
  return { ...endpoints, source: 'local', stop: down };
}
