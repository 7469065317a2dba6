import { z } from 'zod';

/**
 * Service configuration comes from environment variables only. Each service declares one zod
 * object whose keys are the variable names, so every error names the variable at fault and the
 * documentation table is generated from the same schema (see describeConfig).
 */
export type EnvSchema = z.ZodObject<Record<string, z.ZodType>>;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig<S extends EnvSchema>(
  schema: S,
  source: NodeJS.ProcessEnv = process.env,
): z.output<S> {
  // An empty variable counts as unset, so `FOO=` falls back to the default or fails as missing.
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = source[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '(config)');
    const shown =
      input[name] === undefined
        ? 'missing'
        : isSecretName(name)
          ? `got a value of ${input[name].length} characters`
          : `got "${truncate(withoutUserinfo(input[name]))}"`;
    const wanted = describeVar(schema.shape[name]);
    return `${name}: ${issue.message} (${shown}${wanted ? `; expected ${wanted}` : ''})`;
  });
  throw new ConfigError(problems);
}

/** Loads the config or ends the process with exit code 78 (EX_CONFIG) and a message naming each variable. */
export function loadConfigOrExit<S extends EnvSchema>(service: string, schema: S): z.output<S> {
  try {
    return loadConfig(schema);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(
      `${JSON.stringify({ level: 'fatal', service, msg: err.message, problems: err.problems })}\n`,
    );
    process.exit(78);
  }
}

/** Variables whose values never appear in an error (they end up in logs and CI output). */
export function isSecretName(name: string): boolean {
  // SMTP_URL: a mail server's login rides in it, and a password with "/" or "@" defeats the
  // masking of user:password@ below
  return (
    /SECRET|PASSWORD/.test(name) || /(_PASS|_TOKEN|_KEY|_CREDENTIALS?)$/.test(name) || name === 'SMTP_URL'
  );
}

/** A URL's user:password@ (NATS_URL, OPENSEARCH_URL may carry one) is never shown. */
function withoutUserinfo(value: string): string {
  return value.replace(/\/\/[^/@\s]*@/g, '//***@');
}

function truncate(value: string | undefined): string {
  if (value === undefined) return '';
  return value.length > 60 ? `${value.slice(0, 57)}...` : value;
}

function describeVar(type: z.ZodType | undefined): string | undefined {
  return type?.description;
}

export interface ConfigVarDoc {
  name: string;
  required: boolean;
  default: string | undefined;
  description: string;
}

/** One row per variable, for docs/configuration.md. */
export function describeConfig(schema: EnvSchema): ConfigVarDoc[] {
  return Object.entries(schema.shape).map(([name, type]) => {
    const parsedEmpty = type.safeParse(undefined);
    const required = !parsedEmpty.success;
    const def =
      parsedEmpty.success && parsedEmpty.data !== undefined ? stringify(parsedEmpty.data) : undefined;
    return { name, required, default: def, description: type.description ?? '' };
  });
}

function stringify(value: unknown): string {
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

// ---- building blocks ----

const trimmed = z.string().trim();

export const env = {
  string: (description: string) => trimmed.min(1).describe(description),
  optionalString: (description: string) => trimmed.min(1).optional().describe(description),
  port: (description: string, fallback: number) =>
    z.coerce.number().int().min(0).max(65535).default(fallback).describe(`${description} (0-65535)`),
  int: (description: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
    z.coerce
      .number()
      .int()
      .min(min)
      .max(max)
      .default(fallback)
      .describe(`${description} (integer ${min}..${max})`),
  bool: (description: string, fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0'])
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1')
      .describe(`${description} (true|false)`),
  oneOf: <const T extends readonly [string, ...string[]]>(
    description: string,
    values: T,
    fallback: T[number],
  ) =>
    z
      .enum(values)
      .default(fallback)
      .describe(`${description} (${values.join('|')})`),
  hostPorts: (description: string) =>
    trimmed
      .min(1)
      .transform((v) => v.split(',').map((s) => s.trim()))
      .pipe(
        z.array(z.string().regex(/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/, 'each entry must be host:port')).min(1),
      )
      .describe(`${description} (comma-separated host:port)`),
  /** host:port, or dns:///host:port (every address the name resolves to, balanced round-robin). */
  grpcAddress: (service: string) =>
    trimmed
      .regex(
        /^((dns:\/\/\/)?[A-Za-z0-9.\-_]+:\d{1,5}|ipv4:\d{1,3}(\.\d{1,3}){3}:\d{1,5}(,\d{1,3}(\.\d{1,3}){3}:\d{1,5})*)$/,
        'must be host:port, dns:///host:port or ipv4:a.b.c.d:port,…',
      )
      .describe(
        `gRPC address of the ${service} service (host:port, dns:///host:port to balance over all its pods, or ipv4:ip:port,ip:port for a fixed list)`,
      ),
  /** Per-tenant integers overriding a default: "tenantId=value,…" (read with tenantSetting). */
  tenantOverrides: (description: string) =>
    trimmed
      .min(1)
      .optional()
      .refine((v) => v === undefined || /^[^=,\s]+=\d+(,[^=,\s]+=\d+)*$/.test(v), {
        message: 'expected "tenantId=value" pairs separated by commas',
      })
      .describe(description),
  url: (description: string, protocols: readonly string[]) =>
    trimmed
      .min(1)
      .refine((v) => v.split(',').every((u) => protocols.some((p) => u.trim().startsWith(`${p}://`))), {
        message: `must be ${protocols.map((p) => `${p}://`).join(' or ')} URL(s)`,
      })
      .describe(`${description} (${protocols.join('|')} URL, comma-separated for several)`),
};

/** A per-tenant setting: `tenantId=value,…` (as env.tenantOverrides validates it); else the fallback. */
export function tenantSetting(byTenant: string | undefined, tenantId: string, fallback: number): number {
  for (const entry of byTenant?.split(',') ?? []) {
    const [tenant, value] = entry.split('=');
    if (tenant?.trim() === tenantId) return Number(value);
  }
  return fallback;
}

/** Variables every service reads. */
export const baseEnv = {
  LOG_LEVEL: env.oneOf('log level', ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const, 'info'),
  HTTP_PORT: env.port('port of /healthz, /readyz and /metrics (0 = any free port)', 9090),
  IM_NAME_PREFIX: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'lowercase letters, digits and dashes, at most 32')
    .default('')
    .describe('prefix of every topic, subject, bucket and consumer group (isolates test runs)'),
  INSTANCE_ID: env.optionalString('unique name of this replica (default: hostname-pid)'),
  SHUTDOWN_TIMEOUT_MS: env.int('time allowed to drain in-flight work on SIGTERM', 10_000, 0, 600_000),
  MIGRATE_ONLY: env.bool('apply the Cassandra migrations and exit (the Kubernetes migration job)', false),
  GRPC_TLS_DIR: env.optionalString(
    'directory with ca.crt, tls.crt and tls.key (a cert-manager Secret): gRPC between services is mutual TLS, the certificate (CN and DNS SAN) names this service, and only the services wired to call it may',
  ),
  GRPC_ALLOW_PLAINTEXT: env.bool(
    'serve and call gRPC without TLS when GRPC_TLS_DIR is unset: any pod that reaches the port can call as anyone (throwaway setups only)',
    false,
  ),
};

export const grpcServerEnv = {
  GRPC_PORT: env.port('port of the internal gRPC API (0 = any free port)', 50051),
};

/** How a service logs in to Kafka (its own SASL user, ADR 0028) and whether the brokers speak TLS. */
export const kafkaAuthEnv = {
  KAFKA_USERNAME: env.optionalString(
    "Kafka SASL user (this service's own: <prefix>-<service>); unset: no login, the brokers must allow anyone",
  ),
  KAFKA_PASSWORD: env.optionalString('Kafka SASL password'),
  KAFKA_SASL_MECHANISM: env.oneOf(
    'Kafka SASL mechanism (plain sends the password as is: only over TLS or loopback)',
    ['scram-sha-512', 'scram-sha-256', 'plain'] as const,
    'scram-sha-512',
  ),
  KAFKA_TLS: env.bool('connect to the brokers over TLS', false),
  KAFKA_TLS_CA_FILE: env.optionalString(
    "PEM file of the CA that signed the brokers' certificates (default: the system's CAs)",
  ),
};

export const kafkaEnv = {
  KAFKA_BROKERS: env.hostPorts('Kafka bootstrap brokers'),
  ...kafkaAuthEnv,
  KAFKA_CLIENT_ID: env.optionalString('Kafka client id (default: service name)'),
  KAFKA_TOPIC_PARTITIONS: env.int('partitions of topics this service creates', 12, 1, 10_000),
  KAFKA_TOPIC_REPLICATION: env.int('replication factor of topics this service creates', 1, 1, 15),
  KAFKA_PRODUCER_LINGER_MS: env.int(
    'while records keep coming, a produce request leaves at most this often (linger.ms; after a quiet spell a record leaves at once)',
    8,
    0,
    1_000,
  ),
};

export const cassandraEnv = {
  CASSANDRA_CONTACT_POINTS: env.hostPorts('Cassandra contact points'),
  CASSANDRA_LOCAL_DC: env.string('Cassandra local datacenter (datacenter1 for a single local node)'),
  CASSANDRA_USERNAME: env.optionalString('Cassandra user'),
  CASSANDRA_PASSWORD: env.optionalString('Cassandra password'),
  CASSANDRA_REPLICATION: z
    .string()
    .regex(
      /^(\d+|[A-Za-z0-9_-]+:\d+(,[A-Za-z0-9_-]+:\d+)*)$/,
      'a number (SimpleStrategy) or dc:rf,dc:rf (NetworkTopologyStrategy)',
    )
    .default('1')
    .describe('replication of keyspaces created at start-up: "3" or "dc1:3,dc2:3"'),
  CASSANDRA_CONSISTENCY: env.oneOf(
    'consistency of reads and writes',
    ['LOCAL_ONE', 'LOCAL_QUORUM', 'QUORUM', 'ONE', 'ALL'] as const,
    'LOCAL_QUORUM',
  ),
};

export const natsEnv = {
  NATS_URL: env.url('NATS server(s)', ['nats', 'tls']),
  NATS_USER: env.optionalString('NATS user'),
  NATS_PASS: env.optionalString('NATS password'),
};

/**
 * The settings the NATS buckets' limits follow (libs/platform/src/nats/buckets.ts): read by the
 * services that use them and by `tools/nats-buckets.mjs`, which provisions the buckets, under the
 * same names and defaults.
 */
export const natsBucketEnv = {
  ACCESS_TOKEN_TTL_SEC: env.int('lifetime of access tokens (JWT)', 900, 30, 86_400),
  GATEWAY_LEASE_TTL_MS: env.int(
    'a gateway that has not renewed its lease for this long is gone, with its devices',
    15_000,
    1_000,
    600_000,
  ),
};

export const natsBucketSchema = z.object(natsBucketEnv);

/** What `tools/nats-buckets.mjs` (and the chart's job running it) reads. */
export const natsBucketProvisioningSchema = z.object({
  IM_NAME_PREFIX: baseEnv.IM_NAME_PREFIX,
  ...natsEnv,
  ...natsBucketEnv,
  NATS_BUCKET_REPLICAS: env.int('copies of each bucket on a NATS cluster (1, 3 or 5)', 1, 1, 5),
});

export const searchEnv = {
  OPENSEARCH_URL: env.url('OpenSearch (message search)', ['http', 'https']),
  OPENSEARCH_USERNAME: env.optionalString('OpenSearch user (basic auth)'),
  OPENSEARCH_PASSWORD: env.optionalString('OpenSearch password'),
  OPENSEARCH_INDEX_REPLICAS: env.int('replicas of the search index when this service creates it', 1, 0, 10),
};

type Shape = Record<string, z.ZodType>;
/** The parsed type of a group of variables, e.g. ConfigOf<typeof kafkaEnv>. */
export type ConfigOf<T extends Shape> = z.output<z.ZodObject<T>>;
export type BaseConfig = ConfigOf<typeof baseEnv>;
export type GrpcServerConfig = ConfigOf<typeof grpcServerEnv>;
export type KafkaConfig = ConfigOf<typeof kafkaEnv>;
export type KafkaAuthConfig = ConfigOf<typeof kafkaAuthEnv>;
export type CassandraConfig = ConfigOf<typeof cassandraEnv>;
export type NatsConfig = ConfigOf<typeof natsEnv>;
export type SearchConfig = ConfigOf<typeof searchEnv>;
