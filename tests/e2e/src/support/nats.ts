import { connectNats, type NatsConnection } from '@im/platform/nats';
import { pino } from 'pino';

/** A NATS connection as the test runner's user (unrestricted), to inspect or disturb a platform. */
export function runnerNats(name: string): Promise<NatsConnection> {
  return connectNats({
    servers: process.env.NATS_URL!,
    user: process.env.NATS_USER,
    pass: process.env.NATS_PASS,
    name,
    logger: pino({ level: 'silent' }),
  });
}
