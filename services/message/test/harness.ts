import { randomUUID } from 'node:crypto';
import type { CassandraClient } from '@im/platform/cassandra';
import { createKafka, kafkaAuthFromEnv } from '@im/platform/kafka';
import { connectNats, type NatsConnection } from '@im/platform/nats';
import { createRegistry, type Registry } from '@im/platform/registry';
import {
  connectAdminCassandra,
  dropPrefixIndices,
  dropPrefixKeyspaces,
  infraEnvFromProcess,
  newRunPrefix,
  ServiceProcess,
} from '@im/testing';
import type { Kafka } from 'kafkajs';
import { pino } from 'pino';

export const quiet = pino({ level: 'silent' });

/**
 * One message service process with its own name prefix (it migrates its keyspace and creates its
 * topics), plus direct connections to that keyspace, Kafka and NATS for the tests to drive and
 * inspect it. No other service runs: commands go straight onto im.messages.v1.
 */
export class MessageServiceHarness {
  private constructor(
    readonly service: ServiceProcess,
    readonly registry: Registry,
    readonly db: CassandraClient,
    readonly kafka: Kafka,
    readonly nats: NatsConnection,
    private readonly dropKeyspaces: () => Promise<void>,
  ) {}

  /** `overrides`: environment of the service process on top of the run's infrastructure. */
  static async start(overrides: Record<string, string> = {}): Promise<MessageServiceHarness> {
    const env = infraEnvFromProcess();
    const prefix = newRunPrefix('msgit');
    const service = await ServiceProcess.start('message', {
      label: 'it',
      env: {
        ...env,
        IM_NAME_PREFIX: prefix,
        CASSANDRA_CONSISTENCY: 'LOCAL_ONE',
        // sends need auth only to create conversations; these tests write conversations directly
        AUTH_GRPC_ADDR: '127.0.0.1:9',
        MEDIA_GRPC_ADDR: '127.0.0.1:9',
        SHUTDOWN_TIMEOUT_MS: '5000',
        // the window after which a write confirms the store (ADR 0006): short, so tests see commits
        SEQUENCER_COMMIT_DELAY_MS: '1000',
        ...overrides,
      },
    });
    const registry = createRegistry(prefix);
    const db = await connectAdminCassandra(env, registry.keyspace('message'));
    const kafka = createKafka({
      brokers: env.KAFKA_BROKERS!.split(','),
      clientId: 'message-it',
      logger: quiet,
      auth: kafkaAuthFromEnv(env),
    });
    const nats = await connectNats({
      servers: env.NATS_URL!,
      user: env.NATS_USER,
      pass: env.NATS_PASS,
      name: 'message-it',
      logger: quiet,
    });
    return new MessageServiceHarness(service, registry, db, kafka, nats, () =>
      Promise.all([dropPrefixKeyspaces(env, prefix), dropPrefixIndices(env, prefix)]).then(() => undefined),
    );
  }

  async stop(): Promise<void> {
    try {
      await this.service.stop();
      await this.nats.drain();
      await this.db.shutdown();
    } finally {
      await this.dropKeyspaces();
    }
  }
}

export const id = () => randomUUID();
