import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';

/**
 * Stable, snake_case error codes of the public API, with the gRPC status that carries them
 * between services and the HTTP status the gateway answers with. Clients switch on `code`;
 * messages are for humans and may change.
 */
export const ERROR_CODES = {
  invalid_argument: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400 },
  invalid_json: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400 },
  unknown_type: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400 },
  payload_too_large: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 413 },
  unauthenticated: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401 },
  invalid_token: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401 },
  token_expired: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401 },
  session_revoked: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401 },
  invalid_credentials: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401 },
  invalid_refresh_token: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401 },
  refresh_reused: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401 },
  mfa_required: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401 },
  invalid_mfa_token: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401 },
  invalid_mfa_code: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401 },
  forbidden: { grpc: GrpcStatus.PERMISSION_DENIED, http: 403 },
  edit_window_closed: { grpc: GrpcStatus.PERMISSION_DENIED, http: 403 },
  invite_required: { grpc: GrpcStatus.PERMISSION_DENIED, http: 403 },
  invalid_invite: { grpc: GrpcStatus.PERMISSION_DENIED, http: 403 },
  email_domain_not_allowed: { grpc: GrpcStatus.PERMISSION_DENIED, http: 403 },
  account_disabled: { grpc: GrpcStatus.PERMISSION_DENIED, http: 403 },
  not_found: { grpc: GrpcStatus.NOT_FOUND, http: 404 },
  method_not_allowed: { grpc: GrpcStatus.UNIMPLEMENTED, http: 405 },
  username_taken: { grpc: GrpcStatus.ALREADY_EXISTS, http: 409 },
  email_taken: { grpc: GrpcStatus.ALREADY_EXISTS, http: 409 },
  conflict: { grpc: GrpcStatus.ABORTED, http: 409 },
  limit_exceeded: { grpc: GrpcStatus.FAILED_PRECONDITION, http: 409 },
  mfa_enrolment_required: { grpc: GrpcStatus.FAILED_PRECONDITION, http: 409 },
  rate_limited: { grpc: GrpcStatus.RESOURCE_EXHAUSTED, http: 429 },
  unavailable: { grpc: GrpcStatus.UNAVAILABLE, http: 503 },
  timeout: { grpc: GrpcStatus.DEADLINE_EXCEEDED, http: 504 },
  internal: { grpc: GrpcStatus.INTERNAL, http: 500 },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

const CODE_KEY = 'im-error-code';
const RETRY_KEY = 'im-retry-after-ms';

export class AppError extends Error {
  /**
   * What only operators may read (addresses, transport errors): logged, never in an answer nor
   * passed on over gRPC.
   */
  detail: string | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryAfterMs?: number,
    detail?: string,
  ) {
    super(message);
    this.name = 'AppError';
    this.detail = detail;
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }

  get grpcStatus(): GrpcStatus {
    return ERROR_CODES[this.code].grpc;
  }

  toBody(): { error: { code: ErrorCode; message: string; retryAfterMs?: number } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.retryAfterMs !== undefined ? { retryAfterMs: this.retryAfterMs } : {}),
      },
    };
  }
}

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}

/**
 * Failures of a dependency that are over by themselves (a saturated connection pool, a timeout, a
 * lost broker): clients should retry, so they become "unavailable", not "internal".
 */
const TRANSIENT = new Set([
  'NoHostAvailableError', // cassandra-driver: no connection free or reachable ("Pool is busy")
  'OperationTimedOutError', // cassandra-driver: client-side timeout
  'BusyConnectionError',
  'KafkaJSConnectionError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSNonRetriableError',
  'TimeoutError', // NATS request timeout
]);

export function asAppError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  const e = err as { name?: string; code?: number; message?: string };
  if (e?.name && TRANSIENT.has(e.name))
    return new AppError('unavailable', 'a dependency is busy or unreachable; retry shortly');
  // cassandra-driver ResponseError with a server-side timeout or overload code
  if (
    e?.name === 'ResponseError' &&
    (e.code === 0x1001 || e.code === 0x1100 || e.code === 0x1200 || e.code === 0x1000)
  ) {
    return new AppError('unavailable', 'storage is overloaded or unavailable; retry shortly');
  }
  return undefined;
}

/** The gRPC error a handler returns for an AppError (the stable code rides in trailing metadata). */
export function toGrpcError(err: unknown): Partial<ServiceError> {
  const app = asAppError(err) ?? new AppError('internal', 'internal error');
  const metadata = new Metadata();
  metadata.set(CODE_KEY, app.code);
  if (app.retryAfterMs !== undefined) metadata.set(RETRY_KEY, String(app.retryAfterMs));
  return { code: app.grpcStatus, details: app.message, metadata };
}

/** Whether a gRPC error was sent by one of our handlers (it carries a stable code). */
export function hasStableCode(err: unknown): boolean {
  const code = (err as Partial<ServiceError>)?.metadata?.get(CODE_KEY)[0];
  return typeof code === 'string' && isErrorCode(code);
}

/** The AppError a client sees for a failed gRPC call, whatever failed. */
export function fromGrpcError(err: unknown, target: string): AppError {
  if (err instanceof AppError) return err;
  const svc = err as Partial<ServiceError>;
  const code = svc.metadata?.get(CODE_KEY)[0];
  if (typeof code === 'string' && isErrorCode(code)) {
    const retry = Number(svc.metadata?.get(RETRY_KEY)[0]);
    return new AppError(code, svc.details ?? code, Number.isFinite(retry) ? retry : undefined);
  }
  // the transport's own words (addresses, socket errors) go to the detail, not to clients
  const detail = svc.details ?? (err instanceof Error ? err.message : String(err));
  switch (svc.code) {
    case GrpcStatus.DEADLINE_EXCEEDED:
      return new AppError('timeout', `${target} did not answer in time`, undefined, detail);
    case GrpcStatus.UNAVAILABLE:
      return new AppError('unavailable', `${target} is unavailable; retry shortly`, undefined, detail);
    case GrpcStatus.CANCELLED:
      return new AppError('unavailable', `call to ${target} was cancelled`, undefined, detail);
    case GrpcStatus.RESOURCE_EXHAUSTED:
    case GrpcStatus.INTERNAL:
    case GrpcStatus.UNKNOWN:
      // our handlers always send a stable code (above): without one, the transport failed
      // (stream reset, flow control, a connection dropped mid-call) and a retry may succeed
      return new AppError('unavailable', `${target} failed in transport; retry shortly`, undefined, detail);
    default:
      return new AppError('internal', `${target} failed`, undefined, detail);
  }
}
