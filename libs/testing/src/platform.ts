import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, natsBucketSchema } from '@im/platform/config';
import { connectNats, provisionNatsBuckets } from '@im/platform/nats';
import { createRegistry } from '@im/platform/registry';
import { repoRoot } from './paths.js';
import { newRunPrefix } from './isolation.js';
import { dropPrefixIndices, dropPrefixKeyspaces } from './keyspaces.js';
import { freePort } from './ports.js';
import { ServiceProcess, type ServiceName } from './service-process.js';

export interface PlatformOptions {
  /** Infrastructure variables (from the runner's environment by default). */
  infraEnv?: Record<string, string>;
  /** Isolates topics, subjects, buckets and keyspaces of this platform from other suites. */
  prefix?: string;
  /** How many gateway processes to run side by side. */
  gateways?: number;
  /** Extra variables per service, e.g. { message: { LOG_LEVEL: 'debug' } }. */
  env?: Partial<Record<ServiceName, Record<string, string>>>;
  /**
   * Runs on the test run's shared prefix (SHARED_PREFIX_VAR, set by the runner for the e2e phase)
   * instead of a fresh one, so its keyspaces, topics and buckets exist already and start-up skips
   * the migrations (about 8 s of each suite). Only for suites whose data is their own tenants and
   * users: nothing counted per address, no default-tenant settings, no state a later suite reads.
   * Without the variable (one file run alone) it gets a fresh prefix as usual.
   */
  shared?: boolean;
}

/** The runner's shared name prefix for `shared` platforms (ADR 0005). */
export const SHARED_PREFIX_VAR = 'IM_TEST_SHARED_PREFIX';

const INFRA_VARS = [
  'KAFKA_BROKERS',
  'KAFKA_USERNAME',
  'KAFKA_PASSWORD',
  'KAFKA_SASL_MECHANISM',
  'CASSANDRA_CONTACT_POINTS',
  'CASSANDRA_LOCAL_DC',
  'CASSANDRA_USERNAME',
  'CASSANDRA_PASSWORD',
  'NATS_URL',
  'NATS_USER',
  'NATS_PASS',
  'OPENSEARCH_URL',
  'OPENSEARCH_USERNAME',
  'OPENSEARCH_PASSWORD',
  'S3_ENDPOINT',
  'S3_REGION',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
];

export function infraEnvFromProcess(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of INFRA_VARS) if (process.env[k]) out[k] = process.env[k]!;
  if (
    !out.KAFKA_BROKERS ||
    !out.CASSANDRA_CONTACT_POINTS ||
    !out.NATS_URL ||
    !out.OPENSEARCH_URL ||
    !out.S3_ENDPOINT
  ) {
    throw new Error(
      'KAFKA_BROKERS, CASSANDRA_CONTACT_POINTS, NATS_URL, OPENSEARCH_URL and S3_ENDPOINT must be set: run tests through scripts/test.sh',
    );
  }
  return out;
}

/** The operator credential of test platforms (im-admin, CreateTenant). */
/** Encrypts the test platforms' signing keys (32 bytes, base64url), as every real setup must. */
export const TEST_KEY_ENCRYPTION_KEY = 'dGVzdC1vbmx5LWtleS1lbmNyeXB0aW9uLWtleS0zMmI';

export const OPERATOR_TOKEN = 'test-operator-token-0123456789abcdef';

/**
 * All six services as separate processes on ephemeral ports, wired to each other, sharing one
 * name prefix. Test suites drive it through `gatewayUrl` like a client app would.
 */
export class Platform {
  readonly services = new Map<Exclude<ServiceName, 'gateway'>, ServiceProcess>();
  readonly gateways: ServiceProcess[] = [];
  /** Message replicas beyond the first (startMessageReplica). */
  readonly replicas: ServiceProcess[] = [];

  private constructor(
    readonly prefix: string,
    private readonly baseEnv: Record<string, string>,
    private readonly extraEnv: PlatformOptions['env'],
    /** The prefix was made for this platform alone: its keyspaces go when it stops. */
    private readonly ownsPrefix: boolean,
    /** Tells this platform's log files from other suites' on a shared prefix. */
    private readonly logTag: string,
  ) {}

  static async start(options: PlatformOptions = {}): Promise<Platform> {
    const shared = options.shared ? process.env[SHARED_PREFIX_VAR] : undefined;
    const prefix = options.prefix ?? shared ?? newRunPrefix('e2e');
    const baseEnv = {
      ...(options.infraEnv ?? infraEnvFromProcess()),
      IM_NAME_PREFIX: prefix,
      CASSANDRA_CONSISTENCY: 'LOCAL_ONE',
      LOG_LEVEL: process.env.SERVICE_LOG_LEVEL ?? 'info',
      SHUTDOWN_TIMEOUT_MS: '5000',
      // tests register hundreds of users from one address; the limits have a test of their own
      REGISTER_MAX_PER_IP_PER_MIN: '0',
      REGISTER_MAX_PER_TENANT_PER_MIN: '0',
      // tests make tenants by registering into new names (open, the first user its admin); the
      // closed tenant boundary has a suite of its own that turns this off
      AUTH_ALLOW_TENANT_CREATION: 'true',
      DEFAULT_TENANT_REGISTRATION: 'open',
      AUTH_OPERATOR_TOKEN: OPERATOR_TOKEN,
      AUTH_KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
    };
    const platform = new Platform(
      prefix,
      baseEnv,
      options.env,
      options.prefix === undefined && !shared,
      shared ? `-${randomBytes(3).toString('hex')}` : '',
    );
    try {
      await platform.provisionNatsBuckets();
      // every gRPC port is chosen first, so the five services start side by side (a client
      // connects when it first calls; the migrations of the five keyspaces overlap)
      const grpcPorts = new Map<Exclude<ServiceName, 'gateway'>, string>();
      for (const name of ['auth', 'message', 'presence', 'media', 'notification'] as const)
        grpcPorts.set(name, String(await freePort()));
      const addr = (name: Exclude<ServiceName, 'gateway'>) => `127.0.0.1:${grpcPorts.get(name)}`;
      const own = (name: Exclude<ServiceName, 'gateway'>) => ({ GRPC_PORT: grpcPorts.get(name)! });
      await Promise.all([
        platform.startService('auth', own('auth')),
        platform.startService('message', {
          ...own('message'),
          AUTH_GRPC_ADDR: addr('auth'),
          MEDIA_GRPC_ADDR: addr('media'),
        }),
        platform.startService('presence', { ...own('presence'), MESSAGE_GRPC_ADDR: addr('message') }),
        platform.startService('media', {
          ...own('media'),
          MESSAGE_GRPC_ADDR: addr('message'),
          // the web client in the browser tests uploads straight to the store (signed URLs)
          S3_CORS_ALLOWED_ORIGINS: '*',
        }),
        platform.startService('notification', {
          ...own('notification'),
          PRESENCE_GRPC_ADDR: addr('presence'),
          MESSAGE_GRPC_ADDR: addr('message'),
          AUTH_GRPC_ADDR: addr('auth'),
        }),
      ]);
      for (let i = 0; i < (options.gateways ?? 1); i++) await platform.startGateway();
    } catch (err) {
      await platform.stop();
      throw err;
    }
    return platform;
  }

  /**
   * The NATS buckets, made as the infrastructure's unrestricted user the way an operator does
   * before a deployment (tools/nats-buckets.mjs): services on their own users may not make them.
   */
  private async provisionNatsBuckets(): Promise<void> {
    const settings = loadConfig(natsBucketSchema, {
      ...this.serviceEnv('auth'),
      GATEWAY_LEASE_TTL_MS: this.serviceEnv('presence').GATEWAY_LEASE_TTL_MS,
    });
    const nc = await connectNats({
      servers: this.baseEnv.NATS_URL!,
      user: this.baseEnv.NATS_USER,
      pass: this.baseEnv.NATS_PASS,
      name: `test-platform-${this.prefix}`,
      logger: pino({ level: 'silent' }),
    });
    try {
      await provisionNatsBuckets(nc, createRegistry(this.prefix), settings);
    } finally {
      await nc.close();
    }
  }

  /** What a service of this platform starts with (before its dependencies' addresses). */
  serviceEnv(name: ServiceName): Record<string, string> {
    return { ...this.baseEnv, ...this.extraEnv?.[name] };
  }

  grpc(name: Exclude<ServiceName, 'gateway'>): string {
    const svc = this.services.get(name);
    if (!svc) throw new Error(`${name} is not running`);
    return svc.address('grpcPort');
  }

  /** Base URL of gateway #i, e.g. http://127.0.0.1:41234 */
  gatewayUrl(i = 0): string {
    const gw = this.gateways[i];
    if (!gw) throw new Error(`gateway ${i} is not running`);
    return `http://${gw.address('publicPort')}`;
  }

  wsUrl(i = 0): string {
    return `${this.gatewayUrl(i).replace(/^http/, 'ws')}/v1/ws`;
  }

  downstreamEnv(): Record<string, string> {
    return {
      AUTH_GRPC_ADDR: this.grpc('auth'),
      MESSAGE_GRPC_ADDR: this.grpc('message'),
      PRESENCE_GRPC_ADDR: this.grpc('presence'),
      MEDIA_GRPC_ADDR: this.grpc('media'),
      NOTIFICATION_GRPC_ADDR: this.grpc('notification'),
    };
  }

  async startGateway(extra: Record<string, string> = {}): Promise<ServiceProcess> {
    const gw = await ServiceProcess.start('gateway', {
      label: `gw${this.gateways.length}${this.logTag}`,
      env: {
        ...this.baseEnv,
        ...this.downstreamEnv(),
        WEB_CLIENT_DIR: join(repoRoot(), 'apps/web/dist'),
        WEB_CLIENT_MEDIA_ORIGIN: new URL(this.baseEnv.S3_ENDPOINT!).origin,
        ...this.extraEnv?.gateway,
        ...extra,
      },
    });
    this.gateways.push(gw);
    return gw;
  }

  async startService(
    name: Exclude<ServiceName, 'gateway'>,
    env: Record<string, string>,
    label?: string,
  ): Promise<ServiceProcess> {
    const proc = await ServiceProcess.start(name, {
      label: `${label ?? name}${this.logTag}`,
      env: { ...this.baseEnv, ...env, ...this.extraEnv?.[name] },
    });
    this.services.set(name, proc);
    return proc;
  }

  /** Restarts a service on the same ports (e.g. after kill -9), so the others keep their addresses. */
  async restartService(
    name: Exclude<ServiceName, 'gateway'>,
    env: Record<string, string> = {},
  ): Promise<ServiceProcess> {
    const old = this.services.get(name);
    if (!old) throw new Error(`${name} was never started`);
    if (old.running) await old.stop();
    // its old ports (see freePort: outside the ephemeral range, so nothing else took them)
    const base: Record<string, string> = {
      GRPC_PORT: String(old.ports.grpcPort),
      HTTP_PORT: String(old.ports.httpPort),
    };
    if (name === 'message') Object.assign(base, this.messageDependencies());
    if (name === 'media')
      Object.assign(base, { MESSAGE_GRPC_ADDR: this.grpc('message'), S3_CORS_ALLOWED_ORIGINS: '*' });
    if (name === 'presence') base.MESSAGE_GRPC_ADDR = this.grpc('message');
    if (name === 'notification') Object.assign(base, this.notificationDependencies());
    return this.startService(name, { ...base, ...env }, `${name}-restart`);
  }

  /** Another message replica (same prefix, so it joins the sequencer group and shares the work). */
  async startMessageReplica(env: Record<string, string> = {}): Promise<ServiceProcess> {
    const replica = await ServiceProcess.start('message', {
      label: `message-${this.replicas.length + 2}${this.logTag}`,
      env: {
        ...this.baseEnv,
        ...this.messageDependencies(),
        ...this.extraEnv?.message,
        ...env,
      },
    });
    this.replicas.push(replica);
    return replica;
  }

  /** Starts replica i (of startMessageReplica) again on its old ports, e.g. after kill -9. */
  async restartMessageReplica(i: number, env: Record<string, string> = {}): Promise<ServiceProcess> {
    const old = this.replicas[i];
    if (!old) throw new Error(`no message replica ${i}`);
    if (old.running) await old.stop();
    const again = await ServiceProcess.start('message', {
      label: `message-${i + 2}-restart${this.logTag}`,
      env: {
        ...this.baseEnv,
        ...this.messageDependencies(),
        GRPC_PORT: String(old.ports.grpcPort),
        HTTP_PORT: String(old.ports.httpPort),
        ...this.extraEnv?.message,
        ...env,
      },
    });
    this.replicas[i] = again;
    return again;
  }

  /** The services the notification service calls. */
  notificationDependencies(): Record<string, string> {
    return {
      PRESENCE_GRPC_ADDR: this.grpc('presence'),
      MESSAGE_GRPC_ADDR: this.grpc('message'),
      AUTH_GRPC_ADDR: this.grpc('auth'),
    };
  }

  /** The services a message replica calls. */
  private messageDependencies(): Record<string, string> {
    return { AUTH_GRPC_ADDR: this.grpc('auth'), MEDIA_GRPC_ADDR: this.grpc('media') };
  }

  /** Every message replica's gRPC address, for a client that balances over them. */
  messageAddresses(): string {
    const all = [this.services.get('message')!, ...this.replicas];
    return `ipv4:${all.map((p) => p.address('grpcPort')).join(',')}`;
  }

  async stop(): Promise<void> {
    await Promise.all(this.gateways.map((g) => g.stop()));
    await Promise.all([...this.services.values(), ...this.replicas].map((s) => s.stop()));
    // best effort: a suite that stopped Cassandra still passes
    if (this.ownsPrefix)
      await Promise.all([
        dropPrefixKeyspaces(this.baseEnv, this.prefix).catch(() => undefined),
        dropPrefixIndices(this.baseEnv, this.prefix).catch(() => undefined),
      ]);
  }
}
