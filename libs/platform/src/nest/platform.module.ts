import { hostname } from 'node:os';
import {
  Inject,
  Injectable,
  Module,
  Optional,
  type DynamicModule,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import type { ITopicConfig, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import {
  connectCassandra,
  ensureKeyspace,
  loadMigrations,
  revokeCreatorAuthorize,
  runMigrations,
  type CassandraClient,
} from '../cassandra/index.js';
import type { BaseConfig, CassandraConfig, KafkaConfig, NatsConfig } from '../config/index.js';
import { BatchingProducer, createKafka, ensureTopics, kafkaAuthOf } from '../kafka/index.js';
import { connectNats, jetStreamManager, type NatsConnection } from '../nats/index.js';
import { createRegistry, type Registry } from '../registry/index.js';
import { Readiness } from './readiness.js';
import { CASSANDRA, CONFIG, INSTANCE_ID, KAFKA, LOGGER, NATS, PRODUCER, REGISTRY } from './tokens.js';

type AnyConfig = BaseConfig & Partial<KafkaConfig & CassandraConfig & NatsConfig>;

export interface PlatformOptions {
  service: string;
  config: AnyConfig;
  logger: Logger;
  /** Connects to Cassandra, creates the service's keyspace and applies the migrations in this folder. */
  cassandra?: { migrationsDir: string };
  /** Connects to Kafka and creates these topics when missing; `producer` adds a BatchingProducer. */
  kafka?: { topics?: (registry: Registry, config: AnyConfig) => ITopicConfig[]; producer?: boolean };
  /** Connects to NATS (JetStream is reachable through the same connection). */
  nats?: boolean;
}

/**
 * Provides config, logger, the name registry and the connections a service asked for, checks
 * them for /readyz and closes them last on shutdown. Global: any module of the service can inject
 * CASSANDRA, KAFKA, PRODUCER, NATS, REGISTRY, LOGGER, CONFIG.
 */
@Module({})
export class PlatformModule {
  static forRoot(options: PlatformOptions): DynamicModule {
    const { config, logger, service } = options;
    const registry = createRegistry(config.IM_NAME_PREFIX);
    const providers: Provider[] = [
      { provide: CONFIG, useValue: config },
      { provide: LOGGER, useValue: logger },
      { provide: REGISTRY, useValue: registry },
      { provide: INSTANCE_ID, useValue: config.INSTANCE_ID ?? `${hostname()}-${process.pid}` },
      Readiness,
      InfraLifecycle,
    ];
    if (options.cassandra) {
      const { migrationsDir } = options.cassandra;
      providers.push({
        provide: CASSANDRA,
        useFactory: () => openServiceKeyspace(config, logger, registry.keyspace(service), migrationsDir),
      });
    }
    if (options.kafka) {
      const { topics } = options.kafka;
      providers.push({
        provide: KAFKA,
        useFactory: async () => {
          const kafka = createKafka({
            brokers: required(config.KAFKA_BROKERS, 'KAFKA_BROKERS'),
            clientId: config.KAFKA_CLIENT_ID ?? service,
            logger,
            auth: kafkaAuthOf(config),
          });
          if (topics) await ensureTopics(kafka, topics(registry, config));
          return kafka;
        },
      });
      if (options.kafka.producer) {
        providers.push({
          provide: PRODUCER,
          useFactory: async (kafka: Kafka) => {
            const producer = new BatchingProducer(kafka, { lingerMs: config.KAFKA_PRODUCER_LINGER_MS });
            await producer.connect();
            return producer;
          },
          inject: [KAFKA],
        });
      }
    }
    if (options.nats) {
      providers.push({
        provide: NATS,
        useFactory: () =>
          connectNats({
            servers: required(config.NATS_URL, 'NATS_URL'),
            user: config.NATS_USER,
            pass: config.NATS_PASS,
            name: `${service}-${config.INSTANCE_ID ?? process.pid}`,
            logger,
          }),
      });
    }
    return {
      module: PlatformModule,
      global: true,
      providers,
      exports: providers.map((p) =>
        typeof p === 'function' ? p : (p as { provide: unknown }).provide,
      ) as never,
    };
  }
}

async function openServiceKeyspace(
  config: AnyConfig,
  logger: Logger,
  keyspace: string,
  migrationsDir: string,
): Promise<CassandraClient> {
  const connection = {
    contactPoints: required(config.CASSANDRA_CONTACT_POINTS, 'CASSANDRA_CONTACT_POINTS'),
    localDataCenter: required(config.CASSANDRA_LOCAL_DC, 'CASSANDRA_LOCAL_DC'),
    username: config.CASSANDRA_USERNAME,
    password: config.CASSANDRA_PASSWORD,
    consistency: config.CASSANDRA_CONSISTENCY ?? 'LOCAL_QUORUM',
    logger,
  };
  const migrations = await loadMigrations(migrationsDir);
  const admin = await connectCassandra(connection);
  try {
    await ensureKeyspace(admin, keyspace, config.CASSANDRA_REPLICATION ?? '1');
  } finally {
    await admin.shutdown();
  }
  const client = await connectCassandra({ ...connection, keyspace });
  try {
    const result = await runMigrations(client, migrations, logger);
    logger.info(
      { keyspace, applied: result.applied.length, alreadyApplied: result.skipped.length },
      'schema up to date',
    );
    if (config.CASSANDRA_USERNAME) {
      // hardening, not a precondition: a service whose Cassandra refuses it still starts, and says so
      const revoked = await revokeCreatorAuthorize(client, keyspace, config.CASSANDRA_USERNAME).catch(
        (err: unknown) => {
          logger.warn({ err, keyspace }, 'could not give back AUTHORIZE on own tables (ADR 0024)');
          return [];
        },
      );
      if (revoked.length > 0)
        logger.info({ keyspace, tables: revoked }, 'AUTHORIZE on own tables given back');
    }
  } catch (err) {
    await client.shutdown();
    throw err;
  }
  return client;
}

function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new Error(`${name} is required by this service's platform options`);
  return value;
}

/** Registers infra readiness checks and closes the connections once the service's own work stopped. */
@Injectable()
class InfraLifecycle implements OnApplicationShutdown {
  private kafkaAdmin: ReturnType<Kafka['admin']> | undefined;

  constructor(
    readiness: Readiness,
    @Inject(LOGGER) private readonly logger: Logger,
    @Optional() @Inject(CASSANDRA) private readonly cassandra?: CassandraClient,
    @Optional() @Inject(KAFKA) private readonly kafka?: Kafka,
    @Optional() @Inject(PRODUCER) private readonly producer?: BatchingProducer,
    @Optional() @Inject(NATS) private readonly nats?: NatsConnection,
  ) {
    if (cassandra) {
      readiness.add({
        name: 'cassandra',
        check: async () => {
          await cassandra.execute('SELECT release_version FROM system.local', [], { prepare: true });
        },
      });
    }
    if (kafka) {
      readiness.add({
        name: 'kafka',
        check: async () => {
          if (!this.kafkaAdmin) {
            const admin = kafka.admin();
            await admin.connect();
            this.kafkaAdmin = admin;
          }
          await this.kafkaAdmin.describeCluster();
        },
      });
    }
    if (nats) {
      readiness.add({
        name: 'nats',
        check: async () => {
          if (nats.isClosed()) throw new Error('connection closed');
          await nats.flush();
          await (await jetStreamManager(nats)).getAccountInfo();
        },
      });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    const steps: Array<[string, (() => Promise<unknown>) | undefined]> = [
      ['kafka producer', this.producer && (() => this.producer!.close())],
      ['kafka admin', this.kafkaAdmin && (() => this.kafkaAdmin!.disconnect())],
      ['nats', this.nats && (() => this.nats!.drain())],
      ['cassandra', this.cassandra && (() => this.cassandra!.shutdown())],
    ];
    for (const [name, step] of steps) {
      if (!step) continue;
      try {
        await step();
      } catch (err) {
        this.logger.warn({ err, dependency: name }, 'error while closing connection');
      }
    }
  }
}
