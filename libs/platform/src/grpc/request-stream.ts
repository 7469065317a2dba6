import {
  status as GrpcStatus,
  type ClientDuplexStream,
  type Metadata,
  type ServerDuplexStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { context, propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import { AppError, asAppError, hasStableCode, isErrorCode } from '../errors/index.js';

/**
 * A request stream: many unary-like requests multiplexed over a few long-lived bidirectional
 * streams, for a hot path where a gRPC call per request costs more CPU than the work (an HTTP/2
 * stream, headers and a deadline timer on both sides, per message; ADR 0025). Each request carries
 * an id its result echoes, and its own trace context; results come back in any order. A result is
 * a response or an error with a stable code (and when to retry).
 */
export interface StreamedRequest<Req> {
  id: number;
  request: Req | undefined;
  traceContext: { [key: string]: string };
}

export interface StreamedResult<Res> {
  id: number;
  response: Res | undefined;
  error: { code: string; message: string; retryAfterMs?: number | undefined } | undefined;
}

/** The id of the result a server sends when it starts shutting down: send nothing more here. */
const DRAINING = 0;

/** The error of a result, for the wire (what a unary handler's status would have said). */
export function resultError(err: unknown): NonNullable<StreamedResult<unknown>['error']> {
  const app = asAppError(err) ?? new AppError('internal', 'internal error');
  return { code: app.code, message: app.message, retryAfterMs: app.retryAfterMs };
}

/** A request the stream it travelled on could not answer: safe to send again when idempotent. */
export function streamLost(details: string): Partial<ServiceError> {
  return { code: GrpcStatus.UNAVAILABLE, details };
}

interface Pending<Res> {
  resolve(res: Res): void;
  reject(err: unknown): void;
  timer: NodeJS.Timeout;
}

interface Lane<Req, Res> {
  readonly call: ClientDuplexStream<StreamedRequest<Req>, StreamedResult<Res>>;
  readonly pending: Map<number, Pending<Res>>;
  readonly retireAt: number;
  retiring: boolean;
  closed: boolean;
}

export interface RequestStreamPoolOptions {
  /** Streams kept open; with round-robin balancing each new stream goes to the next server. */
  streams: number;
  /**
   * A stream stops taking requests after this long and a fresh one replaces it, so a server that
   * came back (or was added) gets its share again.
   */
  maxStreamAgeMs: number;
}

/** How long after a pool starts its streams count as opened before every server was reachable. */
const SETTLING_MS = 2_000;

/** Past this many bytes waiting to be written, a stream is skipped while another can take the request. */
const BUSY_BYTES = 256 * 1024;

/**
 * The client side: a few streams opened on demand, requests spread over them in turn. A stream
 * that fails or ends takes its unanswered requests with it (rejected as UNAVAILABLE, which the
 * caller may retry); the next request opens a replacement. A stream whose server announces its
 * shutdown takes no more requests.
 */
export class RequestStreamPool<Req, Res> {
  private readonly lanes: Array<Lane<Req, Res>> = [];
  /** Lanes out of rotation that still wait for answers. */
  private readonly retired = new Set<Lane<Req, Res>>();
  private turn = 0;
  private nextId = 1;
  private closed = false;
  private readonly createdAt = Date.now();

  constructor(
    private readonly open: (
      metadata: Metadata,
    ) => ClientDuplexStream<StreamedRequest<Req>, StreamedResult<Res>>,
    private readonly newMetadata: () => Metadata,
    private readonly options: RequestStreamPoolOptions,
  ) {}

  /** Sends one request; rejects with an AppError (a result's error) or a ServiceError-like object. */
  request(request: Req, deadline: number): Promise<Res> {
    if (this.closed) return Promise.reject(streamLost('client closed'));
    const lane = this.pick();
    const id = this.nextId++;
    const traceContext: Record<string, string> = {};
    propagation.inject(context.active(), traceContext);
    return new Promise<Res>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          lane.pending.delete(id);
          reject({ code: GrpcStatus.DEADLINE_EXCEEDED, details: 'deadline exceeded' });
          this.closeIfRetired(lane);
        },
        Math.max(0, deadline - Date.now()),
      );
      lane.pending.set(id, { resolve, reject, timer });
      lane.call.write({ id, request, traceContext });
    });
  }

  close(): void {
    this.closed = true;
    for (const lane of [...this.lanes, ...this.retired]) this.fail(lane, streamLost('client closed'));
  }

  private pick(): Lane<Req, Res> {
    const now = Date.now();
    for (const lane of [...this.lanes]) if (now >= lane.retireAt) this.retire(lane);
    while (this.lanes.length < this.options.streams) this.lanes.push(this.openLane());
    for (let tries = 0; ; tries++) {
      this.turn = (this.turn + 1) % this.lanes.length;
      const lane = this.lanes[this.turn]!;
      if (lane.call.writableLength < BUSY_BYTES || tries >= this.lanes.length) return lane;
    }
  }

  private openLane(): Lane<Req, Res> {
    // the stream outlives the request that opened it: it belongs to no request's trace
    const call = context.with(ROOT_CONTEXT, () => this.open(this.newMetadata()));
    // a little jitter, so streams opened together do not all retire together; the first streams
    // are opened while the channel still connects, when round robin has one server ready at most,
    // so they are replaced soon
    const maxAge = Date.now() - this.createdAt < SETTLING_MS ? SETTLING_MS : this.options.maxStreamAgeMs;
    const age = Math.min(maxAge, this.options.maxStreamAgeMs) * (0.75 + Math.random() / 4);
    const lane: Lane<Req, Res> = {
      call,
      pending: new Map(),
      retireAt: Date.now() + age,
      retiring: false,
      closed: false,
    };
    call.on('data', (result: StreamedResult<Res>) => {
      if (result.id === DRAINING) return this.retire(lane);
      const waiter = lane.pending.get(result.id);
      if (!waiter) return; // timed out meanwhile
      lane.pending.delete(result.id);
      clearTimeout(waiter.timer);
      if (result.error) waiter.reject(appErrorOf(result.error));
      else if (result.response) waiter.resolve(result.response);
      else waiter.reject(new AppError('internal', 'empty result on a request stream'));
      this.closeIfRetired(lane);
    });
    // A refusal of the whole stream (a caller not wired to call, a server that does not know the
    // method) is every request's answer; anything else lost the stream, not the requests.
    call.on('error', (err: ServiceError) =>
      this.fail(
        lane,
        hasStableCode(err) || err.code === GrpcStatus.UNIMPLEMENTED
          ? err
          : streamLost(`request stream lost: ${err.details || err.message}`),
      ),
    );
    call.on('status', () => this.fail(lane, streamLost('request stream ended')));
    return lane;
  }

  /** Takes a lane out of rotation; it closes once its requests are answered. */
  private retire(lane: Lane<Req, Res>): void {
    const i = this.lanes.indexOf(lane);
    if (i >= 0) this.lanes.splice(i, 1);
    if (lane.closed) return;
    lane.retiring = true;
    this.retired.add(lane);
    this.closeIfRetired(lane);
  }

  private closeIfRetired(lane: Lane<Req, Res>): void {
    if (lane.retiring && lane.pending.size === 0 && !lane.closed) {
      // nothing is waiting on it: cancelling loses nothing, and does not depend on the server
      lane.closed = true;
      this.retired.delete(lane);
      lane.call.cancel();
    }
  }

  private fail(lane: Lane<Req, Res>, reason: unknown): void {
    const i = this.lanes.indexOf(lane);
    if (i >= 0) this.lanes.splice(i, 1);
    this.retired.delete(lane);
    if (!lane.closed) {
      lane.closed = true;
      lane.call.cancel();
    }
    for (const w of lane.pending.values()) {
      clearTimeout(w.timer);
      w.reject(reason);
    }
    lane.pending.clear();
  }
}

function appErrorOf(e: NonNullable<StreamedResult<unknown>['error']>): AppError {
  return new AppError(isErrorCode(e.code) ? e.code : 'internal', e.message, e.retryAfterMs);
}

/**
 * The server side of one stream: each request is handled as a unary call would be (in its own
 * trace context), its result written back with its id. Returns `drain`: tell the client to send
 * nothing more here, answer what is in flight, refuse what still arrives (UNAVAILABLE, which the
 * client sends again elsewhere), then end the stream — what a shutdown does, and what happens
 * when the client half-closes. One result that cannot be written (too large) ends the whole
 * stream in grpc-js; results here are small and bounded by the request's own limits.
 */
export function serveRequestStream<Req, Res>(
  call: ServerDuplexStream<StreamedRequest<Req>, StreamedResult<Res>>,
  handle: (request: Req) => Promise<Res>,
  onError: (err: unknown) => void,
): () => void {
  let inFlight = 0;
  let draining = false;
  let ended = false;
  const reply = (result: StreamedResult<Res>) => {
    if (!ended && !call.cancelled) call.write(result);
  };
  const refuse = (id: number, err: AppError) => reply({ id, response: undefined, error: resultError(err) });
  const drain = () => {
    if (!draining) refuse(DRAINING, new AppError('unavailable', 'server shutting down'));
    draining = true;
    if (inFlight === 0 && !ended) {
      ended = true;
      call.end();
    }
  };
  call.on('data', ({ id, request, traceContext }: StreamedRequest<Req>) => {
    if (draining) return refuse(id, new AppError('unavailable', 'server shutting down'));
    if (!request || id === DRAINING)
      return refuse(id, new AppError('invalid_argument', 'request is required'));
    inFlight++;
    const parent = propagation.extract(ROOT_CONTEXT, traceContext ?? {});
    context
      .with(parent, () => Promise.resolve().then(() => handle(request)))
      .then(
        (response) => reply({ id, response, error: undefined }),
        (err: unknown) => {
          onError(err);
          reply({ id, response: undefined, error: resultError(err) });
        },
      )
      .finally(() => {
        inFlight--;
        if (draining) drain();
      });
  });
  call.on('end', drain);
  call.on('cancelled', () => (ended = true));
  return drain;
}
