import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '@im/platform/errors';
import { CommandBus } from './command-bus.js';

/** A bus whose produce requests settle only when the test says so (Kafka away). */
function busWithStuckLog(timeoutMs: number) {
  const produces: Array<{ resolve(): void; reject(err: Error): void }> = [];
  const producer = {
    send: () => new Promise<void>((resolve, reject) => produces.push({ resolve, reject })),
  };
  const nats = { subscribe: () => ({ unsubscribe: () => undefined }) };
  const registry = {
    topics: { conversationCommands: 'commands' },
    subjects: { commandReplies: (id: string) => `replies.${id}` },
  };
  const config = { MAX_PENDING_COMMANDS: 10, SEND_TIMEOUT_MS: timeoutMs };
  const logger = { error: () => undefined, warn: () => undefined };
  const bus = new CommandBus(
    producer as never,
    nats as never,
    registry as never,
    config as never,
    logger as never,
    'replica',
  );
  bus.onModuleInit();
  return { bus, produces };
}

const read = { $case: 'markRead', value: { seq: 1 } } as never;

describe('CommandBus', () => {
  it('times a command out while its produce is still waiting for Kafka', async () => {
    const { bus, produces } = busWithStuckLog(30);
    await assert.rejects(
      bus.submit({ userId: 'u', tenantId: 't' } as never, 'c', read, 'markRead' as never),
      (err: unknown) => err instanceof AppError && err.code === 'timeout',
    );
    // the produce fails later (Kafka gave up): nothing is left to reject unhandled
    produces[0]!.reject(new Error('broker down'));
    await new Promise((r) => setTimeout(r, 10));
  });

  it('still answers unavailable when the produce fails before the timeout', async () => {
    const { bus, produces } = busWithStuckLog(5_000);
    const submitted = bus.submit({ userId: 'u', tenantId: 't' } as never, 'c', read, 'markRead' as never);
    produces[0]!.reject(new Error('broker down'));
    await assert.rejects(submitted, (err: unknown) => err instanceof AppError && err.code === 'unavailable');
    bus.onApplicationShutdown();
  });
});
