import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { AppError, isErrorCode } from '@im/platform/errors';
import { uuidv7 } from '@im/platform/ids';
import { LogUnavailableError, type BatchingProducer } from '@im/platform/kafka';
import type { Logger } from '@im/platform/logging';
import type { NatsConnection, Subscription } from '@im/platform/nats';
import { CONFIG, INSTANCE_ID, LOGGER, NATS, PRODUCER, REGISTRY } from '@im/platform/nest';
import type { Registry } from '@im/platform/registry';
import type { Caller } from '@im/proto/common/v1';
import { CommandResult, ConversationCommand } from '@im/proto/events/v1';
import type { MessageConfig } from '../config.js';

interface Waiter {
  resolve(result: CommandResult): void;
  reject(err: AppError): void;
  timer: NodeJS.Timeout;
}

/**
 * Puts a command on im.messages.v1 (keyed by conversation, acks=all) and waits for the
 * sequencer's result on this replica's reply subject. The command is durable once produce()
 * resolves; the wait only decides what the caller hears. A timeout is safe to retry: sends are
 * idempotent by clientMsgId and read markers are monotonic.
 */
@Injectable()
export class CommandBus implements OnModuleInit, OnApplicationShutdown {
  private readonly waiting = new Map<string, Waiter>();
  private sub: Subscription | undefined;
  readonly replySubject: string;

  constructor(
    @Inject(PRODUCER) private readonly producer: BatchingProducer,
    @Inject(NATS) private readonly nats: NatsConnection,
    @Inject(REGISTRY) private readonly registry: Registry,
    @Inject(CONFIG) private readonly config: MessageConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(INSTANCE_ID) instanceId: string,
  ) {
    this.replySubject = registry.subjects.commandReplies(instanceId);
  }

  onModuleInit(): void {
    this.sub = this.nats.subscribe(this.replySubject, {
      callback: (_err, msg) => {
        try {
          const result = CommandResult.decode(msg.data);
          const waiter = this.waiting.get(result.commandId);
          if (!waiter) return; // the caller already timed out
          this.waiting.delete(result.commandId);
          clearTimeout(waiter.timer);
          waiter.resolve(result);
        } catch (err) {
          this.logger.warn({ err }, 'undecodable command result dropped');
        }
      },
    });
  }

  onApplicationShutdown(): void {
    this.sub?.unsubscribe();
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.reject(new AppError('unavailable', 'message service is shutting down: retry'));
    }
    this.waiting.clear();
  }

  /**
   * Puts a command of the caller on the conversation's partition, waits for the sequencer's
   * result and returns it if it is of the expected kind; an error result is thrown as the
   * AppError it carries.
   */
  async submit<K extends ResultKind>(
    caller: Caller,
    conversationId: string,
    body: NonNullable<ConversationCommand['command']>,
    expected: K,
  ): Promise<ResultOf[K]> {
    return expectResult(await this.roundTrip(caller, conversationId, body), expected);
  }

  private async roundTrip(
    caller: Caller,
    conversationId: string,
    body: NonNullable<ConversationCommand['command']>,
  ): Promise<CommandResult> {
    const command: ConversationCommand = {
      commandId: uuidv7(),
      conversationId,
      caller,
      issuedAt: new Date().toISOString(),
      replySubject: this.replySubject,
      command: body,
    };
    // Past this many in flight the sequencer is behind: queueing more would only make every
    // caller wait for a timeout (congestion collapse). Refuse early; retrying later is safe.
    if (this.waiting.size >= this.config.MAX_PENDING_COMMANDS) {
      throw new AppError('unavailable', 'message service overloaded; retry shortly (same clientMsgId)', 200);
    }
    const result = new Promise<CommandResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(command.commandId);
        reject(new AppError('timeout', 'not confirmed in time; retrying is safe (same clientMsgId)'));
      }, this.config.SEND_TIMEOUT_MS);
      this.waiting.set(command.commandId, { resolve, reject, timer });
    });
    const produced = this.producer.send({
      topic: this.registry.topics.conversationCommands,
      key: command.conversationId,
      value: Buffer.from(ConversationCommand.encode(command).finish()),
    });
    // the timeout runs from here, also while the produce waits for a Kafka that is away; whichever
    // loses the race below must not end as an unhandled rejection
    result.catch(() => undefined);
    produced.catch(() => undefined);
    try {
      await Promise.race([produced, result]);
    } catch (err) {
      if (err instanceof AppError) throw err; // timed out (already out of `waiting`) or shutting down
      const waiter = this.waiting.get(command.commandId);
      if (waiter) clearTimeout(waiter.timer);
      this.waiting.delete(command.commandId);
      if (err instanceof LogUnavailableError)
        throw new AppError('unavailable', `${err.message}; retrying is safe`, 1_000);
      this.logger.error({ err }, 'producing a command failed');
      throw new AppError('unavailable', 'the message log is unavailable; retrying is safe', 1_000);
    }
    return result;
  }
}

type Success = Exclude<NonNullable<CommandResult['result']>, { $case: 'error' }>;
type ResultOf = { [S in Success as S['$case']]: S['value'] };
type ResultKind = keyof ResultOf;

/** The sequencer's answer of the expected kind, or the AppError it carries. */
function expectResult<K extends ResultKind>(result: CommandResult, kind: K): ResultOf[K] {
  const r = result.result;
  if (r?.$case === 'error')
    throw new AppError(isErrorCode(r.value.code) ? r.value.code : 'internal', r.value.message);
  if (r?.$case !== kind) throw new AppError('internal', 'unexpected result from the sequencer');
  return r.value as ResultOf[K];
}
