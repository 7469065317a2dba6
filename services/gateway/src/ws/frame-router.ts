import { Inject, Injectable } from '@nestjs/common';
import type { RawData } from 'ws';
import type { ServerFrameOf } from '@im/proto/client/v1';
import { AppError, asAppError } from '@im/platform/errors';
import type { Logger } from '@im/platform/logging';
import { CONFIG, LOGGER } from '@im/platform/nest';
import { TokenBucket } from '@im/platform/rate-limit';
import { meter } from '@im/platform/telemetry';
import { Downstream } from '../clients/downstream.js';
import type { GatewayConfig } from '../config.js';
import { InFlightRequests } from '../domain/in-flight-requests.js';
import { Messaging } from '../domain/messaging.js';
import { parse, wsFrames, type WsFrame, type WsFrameType } from '../http/request-schemas.js';
import { isApiKey } from '../auth/api-keys.js';
import { TokenVerifier } from '../auth/token-verifier.js';
import { PresenceRouter } from '../presence/presence-router.js';
import type { Connection } from './connection.js';

/** What an ack carries besides its type and id. */
/** auth.refresh at most this often per socket (each one costs a verification). */
const RENEW_INTERVAL_MS = 5_000;
/**
 * presence.subscribe per socket: a burst, then one per 2 s. Each one may change up to 500 NATS
 * subscriptions and reads 500 users' presence, and clients send their whole set each time.
 */
const SUBSCRIBE_BURST = 5;
const SUBSCRIBE_PER_SEC = 0.5;

type AckBody = Partial<Omit<ServerFrameOf<'ack'>, 'type' | 'id'>>;
type Handler<T extends WsFrameType> = (conn: Connection, frame: WsFrame<T>) => Promise<AckBody>;

/**
 * Client frames in, acks and errors out. Every request frame is answered exactly once, by an ack
 * or an error with its id; a bad frame never closes the socket (only >1 MiB does, with 1009).
 */
@Injectable()
export class FrameRouter {
  private draining = false;
  private readonly frames = meter().createCounter('im_gateway_ws_frames_total', {
    description: 'client frames by type and outcome',
  });
  private readonly handlers: { [T in WsFrameType]: Handler<T> };

  constructor(
    private readonly messaging: Messaging,
    private readonly downstream: Downstream,
    private readonly presence: PresenceRouter,
    private readonly verifier: TokenVerifier,
    private readonly inFlight: InFlightRequests,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    const caller = (c: Connection) => ({
      userId: c.userId,
      tenantId: c.principal.tenantId,
      sessionId: c.sessionId,
    });
    this.handlers = {
      'auth.refresh': async (c, f) => {
        const now = Date.now();
        if (now - c.lastRenewedAt < RENEW_INTERVAL_MS)
          throw new AppError(
            'rate_limited',
            'one auth.refresh per 5 s',
            RENEW_INTERVAL_MS - (now - c.lastRenewedAt),
          );
        c.lastRenewedAt = now;
        if (isApiKey(f.token) || c.principal.apiKey)
          throw new AppError(
            'invalid_argument',
            'token: API keys do not expire; auth.refresh is for access tokens',
          );
        const renewed = await this.verifier.verify(f.token);
        if (renewed.sessionId !== c.sessionId || renewed.userId !== c.userId)
          throw new AppError('invalid_argument', 'token: must be of the session this socket belongs to');
        c.principal = renewed;
        return {};
      },
      'message.send': async (c, f) => ({ message: (await this.messaging.send(caller(c), f)).message }),
      read: async (c, f) => ({
        seq: (await this.messaging.markRead(caller(c), f.conversationId, f.seq)).readSeq,
      }),
      typing: async (c, f) => {
        await this.downstream.presence.typing({ caller: caller(c), conversationId: f.conversationId });
        return {};
      },
      'presence.set': async (c, f) => {
        await this.downstream.presence.setStatus({
          caller: caller(c),
          status: f.status,
          statusText: f.statusText,
        });
        return {};
      },
      'presence.subscribe': async (c, f) => {
        c.presenceSubscribes ??= new TokenBucket(SUBSCRIBE_PER_SEC, SUBSCRIBE_BURST);
        const wait = c.presenceSubscribes.take();
        if (wait > 0)
          throw new AppError(
            'rate_limited',
            `presence.subscribe: ${SUBSCRIBE_BURST} at once, then one per ${1 / SUBSCRIBE_PER_SEC} s; the previous set stays`,
            wait,
          );
        this.presence.watch(c, f.userIds);
        const res = await this.downstream.presence.getPresence({ caller: caller(c), userIds: f.userIds });
        return { presence: res.presence };
      },
      sync: async (c, f) => {
        const res = await this.messaging.sync(caller(c), f.conversations, f.limit);
        return { conversations: res.conversations, hasMore: res.hasMore };
      },
      ping: async () => ({ serverTime: new Date().toISOString() }),
      'message.edit': async (c, f) => ({
        message: await this.messaging.edit(caller(c), f.conversationId, f.seq, f.text),
      }),
      'message.delete': async (c, f) => ({
        message: await this.messaging.delete(caller(c), f.conversationId, f.seq),
      }),
      'reaction.add': async (c, f) => ({
        message: await this.messaging.react(caller(c), f.conversationId, f.seq, f.emoji, true),
      }),
      'reaction.remove': async (c, f) => ({
        message: await this.messaging.react(caller(c), f.conversationId, f.seq, f.emoji, false),
      }),
    };
  }

  /** During a drain new requests are refused (unavailable) while in-flight ones finish. */
  startDraining(): void {
    this.draining = true;
  }

  async handle(conn: Connection, data: RawData, isBinary: boolean): Promise<void> {
    conn.lastSeen = Date.now();
    const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
    if (isBinary)
      return this.reject(
        conn,
        undefined,
        new AppError('invalid_argument', 'binary frames are not supported; send JSON text'),
      );
    if (size > this.config.WS_MAX_FRAME_BYTES) {
      return this.reject(
        conn,
        undefined,
        new AppError('payload_too_large', `frame of ${size} bytes exceeds ${this.config.WS_MAX_FRAME_BYTES}`),
      );
    }
    let frame: unknown;
    try {
      frame = JSON.parse(data.toString());
    } catch {
      return this.reject(conn, undefined, new AppError('invalid_json', 'frame is not valid JSON'));
    }
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) {
      return this.reject(
        conn,
        undefined,
        new AppError('invalid_argument', 'frame must be a JSON object with a "type"'),
      );
    }
    const { type, id } = frame as { type?: unknown; id?: unknown };
    const requestId = typeof id === 'string' ? id : undefined;
    if (typeof type !== 'string')
      return this.reject(conn, requestId, new AppError('invalid_argument', 'type: required string'));
    if (type === 'auth')
      return this.reject(conn, requestId, new AppError('invalid_argument', 'already authenticated'));
    if (!Object.hasOwn(wsFrames, type))
      return this.reject(
        conn,
        requestId,
        new AppError('unknown_type', `unknown frame type "${type.slice(0, 64)}"`),
      );
    const frameType = type as WsFrameType;
    if (this.draining)
      return this.reject(conn, requestId, new AppError('unavailable', 'gateway is restarting: reconnect'));
    if (conn.pending >= this.config.WS_MAX_PENDING_REQUESTS) {
      const limit = this.config.WS_MAX_PENDING_REQUESTS;
      return this.reject(
        conn,
        requestId,
        new AppError('rate_limited', `more than ${limit} requests in flight on this socket`, 100),
      );
    }

    conn.pending++;
    try {
      const work = async () => {
        const valid = parse(wsFrames[frameType], frame, 'frame');
        const result = await (this.handlers[frameType] as Handler<WsFrameType>)(
          conn,
          valid as WsFrame<WsFrameType>,
        );
        conn.sendFrame({ type: 'ack', id: valid.id, ...result });
        this.frames.add(1, { type: frameType, outcome: 'ack' });
      };
      // a ping is answered however busy the gateway is: it tells the client the socket is alive
      await (frameType === 'ping' ? work() : this.inFlight.run(work));
    } catch (err) {
      this.reject(conn, requestId, err, frameType);
    } finally {
      conn.pending--;
    }
  }

  private reject(conn: Connection, id: string | undefined, err: unknown, type = 'invalid'): void {
    const known = asAppError(err);
    const app = known ?? new AppError('internal', 'internal error');
    if (!known) this.logger.error({ err, userId: conn.userId }, 'unexpected error handling a frame');
    else if (known.detail)
      this.logger.warn({ code: known.code, detail: known.detail }, 'dependency failure answered');
    conn.sendFrame({
      type: 'error',
      ...(id !== undefined ? { id } : {}),
      code: app.code,
      message: app.message,
      ...(app.retryAfterMs !== undefined ? { retryAfterMs: app.retryAfterMs } : {}),
    });
    this.frames.add(1, { type, outcome: app.code });
  }
}
