// The default export is the CommonJS module object: its makeGenericClientConstructor is the one the
// OpenTelemetry gRPC instrumentation wraps (the named ES export is a copy taken before that).
import grpc, {
  Metadata,
  status as GrpcStatus,
  type Client,
  type MethodDefinition,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { AppError, fromGrpcError } from '../errors/index.js';
import { channelCredentials, channelOptions, grpcIdentity, type GrpcIdentity } from './identity.js';
import {
  RequestStreamPool,
  type RequestStreamPoolOptions,
  type StreamedRequest,
  type StreamedResult,
} from './request-stream.js';

export interface CallOptions {
  /** Overrides the client's default deadline for this call. */
  deadlineMs?: number;
}

/**
 * Promise-returning methods of a generated grpc-js service definition. A request stream (see
 * request-stream.ts) is called like a unary method, with its single requests.
 */
export type PromiseClient<S> = {
  [K in keyof S]: S[K] extends MethodDefinition<StreamedRequest<infer Req>, StreamedResult<infer Res>> & {
    requestStream: true;
  }
    ? (request: Req, options?: CallOptions) => Promise<Res>
    : S[K] extends { requestStream: true } | { responseStream: true }
      ? never // other streaming shapes are not supported
      : S[K] extends MethodDefinition<infer Req, infer Res>
        ? (request: Req, options?: CallOptions) => Promise<Res>
        : never;
};

export interface GrpcClientOptions {
  /** Human name for errors, e.g. "auth". */
  name: string;
  /** host:port */
  address: string;
  /** Deadline of every call unless the call says otherwise. */
  deadlineMs?: number;
  /**
   * Methods that are safe to repeat (reads, or writes keyed by an idempotency key). Only these are
   * retried, and only on UNAVAILABLE, within the call's deadline.
   */
  idempotent?: readonly string[];
  maxAttempts?: number;
  /** How request streams are spread (the default: 8 streams, each replaced after about 15 s). */
  requestStreams?: RequestStreamPoolOptions;
  /**
   * For a request stream, the unary method of the same requests, used while the server does not
   * know the stream (a server of the previous version during a rolling upgrade).
   */
  unaryFallback?: Readonly<Record<string, string>>;
  /** mTLS identity to call with (the process's by default; see useGrpcIdentity). */
  identity?: GrpcIdentity | undefined;
}

const RETRY_BASE_MS = 50;
/** How long a client uses the unary fallback before it tries the request stream again. */
const UNARY_FALLBACK_MS = 30_000;

/**
 * Wraps a generated grpc-js service in a client whose every call has a deadline, fails with an
 * AppError (stable code) and is retried only when idempotent.
 */
export function createGrpcClient<S extends ServiceDefinition>(
  definition: S,
  options: GrpcClientOptions,
): PromiseClient<S> & { close(): void } {
  const Ctor = grpc.makeGenericClientConstructor(definition, options.name);
  const identity = 'identity' in options ? options.identity : grpcIdentity();
  const client = new Ctor(options.address, channelCredentials(identity), {
    ...channelOptions(options.name, identity),
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.initial_reconnect_backoff_ms': 200,
    'grpc.max_reconnect_backoff_ms': 2_000,
    'grpc.max_receive_message_length': 8 * 1024 * 1024,
    // with dns:///name:port every resolved pod gets calls, not just the first
    'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
  });
  const idempotent = new Set(options.idempotent ?? []);
  const defaultDeadline = options.deadlineMs ?? 5_000;
  const maxAttempts = options.maxAttempts ?? 3;
  const pools: Array<RequestStreamPool<unknown, unknown>> = [];
  const out: Record<string, unknown> = {
    close: () => {
      for (const pool of pools) pool.close();
      client.close();
    },
  };
  const methods = client as unknown as Record<string, Function>;
  const unary = (method: string) => {
    const invoke = methods[method]!.bind(client) as (
      req: unknown,
      md: Metadata,
      opts: { deadline: number },
      cb: (err: ServiceError | null, res: unknown) => void,
    ) => void;
    return (request: unknown, deadline: number) =>
      new Promise((resolve, reject) =>
        invoke(request, new Metadata(), { deadline }, (err, res) => (err ? reject(err) : resolve(res))),
      );
  };

  for (const [method, def] of Object.entries(definition)) {
    let attempt: (request: unknown, deadline: number) => Promise<unknown>;
    if (def.requestStream && def.responseStream) {
      const open = methods[method]!.bind(client) as ConstructorParameters<typeof RequestStreamPool>[0];
      const pool = new RequestStreamPool<unknown, unknown>(
        open,
        () => new Metadata(),
        options.requestStreams ?? { streams: 8, maxStreamAgeMs: 15_000 },
      );
      pools.push(pool);
      const fallback = options.unaryFallback?.[method];
      let unaryUntil = 0;
      attempt = async (request, deadline) => {
        if (fallback && Date.now() < unaryUntil) return unary(fallback)(request, deadline);
        try {
          return await pool.request(request, deadline);
        } catch (err) {
          if (!fallback || (err as ServiceError).code !== GrpcStatus.UNIMPLEMENTED) throw err;
          unaryUntil = Date.now() + UNARY_FALLBACK_MS;
          return unary(fallback)(request, deadline);
        }
      };
    } else {
      attempt = unary(method);
    }
    out[method] = async (request: unknown, callOptions?: CallOptions) => {
      const deadline = Date.now() + (callOptions?.deadlineMs ?? defaultDeadline);
      for (let n = 1; ; n++) {
        try {
          return await attempt(request, deadline);
        } catch (err) {
          // the address stays out of the message (it reaches clients) and goes to the detail
          const app = fromGrpcError(err, options.name);
          app.detail = `${options.address}: ${app.detail ?? ''}`;
          // a server that says when to come back (overloaded, its log down) is not asked again at
          // once: the hint goes to the caller, and on to the client, who waits as told
          const unavailable =
            (err as ServiceError).code === GrpcStatus.UNAVAILABLE ||
            (err instanceof AppError && err.code === 'unavailable');
          const retriable = idempotent.has(method) && unavailable && app.retryAfterMs === undefined;
          const backoff = RETRY_BASE_MS * 2 ** (n - 1);
          if (!retriable || n >= maxAttempts || Date.now() + backoff >= deadline) throw app;
          await new Promise((r) => setTimeout(r, backoff));
        }
      }
    };
  }
  return out as PromiseClient<S> & { close(): void };
}

export type ServingStatus = 'SERVING' | 'NOT_SERVING' | 'UNKNOWN' | 'SERVICE_UNKNOWN';

/**
 * Asks a server's grpc.health.v1 service for a status. Fails with AppError "unavailable" or
 * "timeout" when the server cannot be reached in time. `peer` is the service the server is (the
 * name its certificate must carry, with mTLS).
 */
export async function checkGrpcHealth(
  address: string,
  options: {
    service?: string;
    deadlineMs?: number;
    peer?: string;
    identity?: GrpcIdentity | undefined;
  } = {},
): Promise<ServingStatus> {
  const peer = options.peer ?? 'health check';
  const identity = 'identity' in options ? options.identity : grpcIdentity();
  const Ctor = grpc.makeGenericClientConstructor(healthService, 'Health');
  const client: Client = new Ctor(address, channelCredentials(identity), channelOptions(peer, identity));
  try {
    const res = await new Promise<{ status: ServingStatus }>((resolve, reject) =>
      (client as unknown as Record<string, Function>).check!(
        { service: options.service ?? '' },
        new Metadata(),
        { deadline: Date.now() + (options.deadlineMs ?? 2_000) },
        (err: ServiceError | null, r: { status: ServingStatus }) => (err ? reject(err) : resolve(r)),
      ),
    );
    return res.status;
  } catch (err) {
    if ((err as ServiceError).code === GrpcStatus.NOT_FOUND) return 'SERVICE_UNKNOWN';
    throw fromGrpcError(err, `${peer} (${address})`);
  } finally {
    client.close();
  }
}

export { AppError };

/** A /readyz check that asks another service's gRPC health endpoint (with a deadline). */
export function grpcDependencyCheck(name: string, address: string, deadlineMs = 1_500) {
  return {
    name,
    check: async () => {
      const status = await checkGrpcHealth(address, { deadlineMs, peer: name });
      if (status !== 'SERVING') throw new Error(`${name} at ${address} reports ${status}`);
    },
  };
}
