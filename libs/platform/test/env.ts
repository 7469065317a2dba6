import { randomBytes } from 'node:crypto';
import { pino } from 'pino';

/** Endpoints of the real infrastructure, set by the test runner (scripts/run-tests.mjs). */
export function infra() {
  const need = (name: string) => {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is not set: run these tests through scripts/test.sh`);
    return v;
  };
  return {
    kafkaBrokers: need('KAFKA_BROKERS').split(','),
    cassandraContactPoints: need('CASSANDRA_CONTACT_POINTS').split(','),
    cassandraLocalDc: process.env.CASSANDRA_LOCAL_DC ?? 'datacenter1',
    cassandraUsername: process.env.CASSANDRA_USERNAME,
    cassandraPassword: process.env.CASSANDRA_PASSWORD,
    natsUrl: need('NATS_URL'),
    natsUser: process.env.NATS_USER,
    natsPass: process.env.NATS_PASS,
  };
}

export const uniquePrefix = (label: string) =>
  `${label}${Date.now().toString(36).slice(-5)}${randomBytes(2).toString('hex')}`;

export const quietLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/**
 * Polls until fn returns without throwing, or throws its last error when the time is up.
 * (@im/testing has the same helper; platform tests cannot depend on it, it depends on platform.)
 */
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() >= deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
