import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type Admin, type ITopicConfig, type KafkaConfig, type SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ConfigError, kafkaAuthEnv, loadConfig, type KafkaAuthConfig } from '../config/index.js';
import { stopIdleRequestQueueTimers } from './request-queue-timer.js';

/** The SASL login and TLS of a Kafka client; empty: neither. */
export interface KafkaAuth {
  sasl?: SASLOptions;
  ssl?: true | { ca: string[] };
}

export interface KafkaClientOptions {
  brokers: readonly string[];
  clientId: string;
  logger: Logger;
  connectionTimeoutMs?: number;
  auth?: KafkaAuth;
}

/** The KAFKA_USERNAME/PASSWORD/SASL_MECHANISM/TLS variables as kafkajs options. */
export function kafkaAuthOf(config: Partial<KafkaAuthConfig>): KafkaAuth {
  const auth: KafkaAuth = {};
  // half a setting is a mistake, not a choice: say so rather than connect without it
  const problems = [
    ...(config.KAFKA_USERNAME && !config.KAFKA_PASSWORD
      ? ['KAFKA_PASSWORD: needed with KAFKA_USERNAME (missing)']
      : []),
    ...(config.KAFKA_PASSWORD && !config.KAFKA_USERNAME
      ? ['KAFKA_USERNAME: needed with KAFKA_PASSWORD (missing)']
      : []),
    ...(config.KAFKA_TLS_CA_FILE && !config.KAFKA_TLS
      ? ['KAFKA_TLS: must be true with KAFKA_TLS_CA_FILE']
      : []),
  ];
  if (problems.length > 0) throw new ConfigError(problems);
  if (config.KAFKA_USERNAME && config.KAFKA_PASSWORD) {
    const login = { username: config.KAFKA_USERNAME, password: config.KAFKA_PASSWORD };
    auth.sasl = { mechanism: config.KAFKA_SASL_MECHANISM ?? 'scram-sha-512', ...login } as SASLOptions;
  }
  if (config.KAFKA_TLS)
    auth.ssl = config.KAFKA_TLS_CA_FILE ? { ca: [readFileSync(config.KAFKA_TLS_CA_FILE, 'utf8')] } : true;
  return auth;
}

/** The Kafka login of the environment: tests and tools that talk to Kafka beside the services. */
export function kafkaAuthFromEnv(source: NodeJS.ProcessEnv = process.env): KafkaAuth {
  return kafkaAuthOf(loadConfig(z.object(kafkaAuthEnv), source));
}

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

export function createKafka(options: KafkaClientOptions): Kafka {
  stopIdleRequestQueueTimers();
  const config: KafkaConfig = {
    clientId: options.clientId,
    brokers: [...options.brokers],
    connectionTimeout: options.connectionTimeoutMs ?? 3_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 100, retries: 8, maxRetryTime: 5_000 },
    ...options.auth,
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => {
      const level = LEVELS[entry.level] ?? 'info';
      const { message, ...rest } = entry.log;
      options.logger[level]({ kafka: entry.namespace, ...rest }, message);
    },
  };
  return new Kafka(config);
}

/** Creates the topics that do not exist yet; existing topics are left as they are. */
export async function ensureTopics(kafka: Kafka, topics: readonly ITopicConfig[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length === 0) return;
    try {
      await admin.createTopics({ topics: [...missing], waitForLeaders: false });
    } catch (err) {
      // Another replica may have created them at the same moment.
      if ((err as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw err;
    }
    await waitForLeaders(
      admin,
      missing.map((t) => t.topic),
    );
  } finally {
    await admin.disconnect();
  }
}

/**
 * Waits until every partition of the topics has a leader. kafkajs' own waitForLeaders gives up on
 * the "unknown topic or partition" a KRaft broker answers for a moment after creating a topic.
 */
async function waitForLeaders(admin: Admin, topics: readonly string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics: [...topics] });
      if (meta.length === topics.length && meta.every((t) => t.partitions.every((p) => p.leader >= 0)))
        return;
    } catch (err) {
      const type = (err as { type?: string }).type;
      if (type !== 'UNKNOWN_TOPIC_OR_PARTITION' && type !== 'LEADER_NOT_AVAILABLE') throw err;
    }
    if (Date.now() > deadline)
      throw new Error(`topics ${topics.join(', ')} have no leaders after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
