import {
  Server,
  type MethodDefinition,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type ServiceDefinition,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { TLSSocket, type PeerCertificate } from 'node:tls';
import type { Logger } from 'pino';
import { AppError, asAppError, toGrpcError } from '../errors/index.js';
import { grpcIdentity, grpcMayCallMethod, serverCredentials, type GrpcIdentity } from './identity.js';
import { serveRequestStream, type StreamedRequest, type StreamedResult } from './request-stream.js';

/** A unary handler: thin, async, throws AppError for expected failures. */
export type UnaryHandler<Req, Res> = (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>;

/**
 * Handlers for every method of a generated grpc-js service definition. A request stream (a
 * bidirectional method of StreamedRequest/StreamedResult, see request-stream.ts) is served by a
 * handler of its single requests, like a unary one.
 */
export type ServiceHandlers<S> = {
  [K in keyof S]: S[K] extends MethodDefinition<StreamedRequest<infer Req>, StreamedResult<infer Res>> & {
    requestStream: true;
  }
    ? (request: Req) => Promise<Res>
    : S[K] extends { requestStream: true } | { responseStream: true }
      ? never // other streaming shapes are not supported
      : S[K] extends MethodDefinition<infer Req, infer Res>
        ? UnaryHandler<Req, Res>
        : never;
};

export interface ServiceBinding {
  /** Fully qualified name for the health protocol, e.g. "im.auth.v1.AuthService". */
  readonly name: string;
  readonly definition: ServiceDefinition;
  readonly handlers: Record<string, UnaryHandler<unknown, unknown>>;
}

export function bindService<S extends ServiceDefinition>(
  name: string,
  definition: S,
  handlers: ServiceHandlers<S>,
): ServiceBinding {
  return { name, definition, handlers: handlers as unknown as ServiceBinding['handlers'] };
}

export interface GrpcServerOptions {
  host?: string;
  port: number;
  logger: Logger;
  services: readonly ServiceBinding[];
  /** mTLS: callers must present a certificate of this identity's CA (the process's by default). */
  identity?: GrpcIdentity | undefined;
  /**
   * With mTLS, the certificate names (CN) that may call; anyone else gets PERMISSION_DENIED
   * "forbidden". The health service answers every certificate of the CA.
   */
  allowedCallers?: ReadonlySet<string>;
}

/**
 * A grpc-js server with the standard health service (grpc.health.v1), error mapping from
 * AppError to status + stable code, and a graceful shutdown that lets in-flight calls finish.
 */
export class GrpcServer {
  private readonly server = new Server({
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.max_receive_message_length': 4 * 1024 * 1024,
    'grpc.max_send_message_length': 8 * 1024 * 1024,
  });
  private readonly health: HealthImplementation;
  private boundPort = 0;
  /** Open request streams: a shutdown ends each once its requests in flight are answered. */
  private readonly streams = new Set<() => void>();

  constructor(private readonly options: GrpcServerOptions) {
    if (this.identity && !options.allowedCallers)
      throw new Error('a gRPC server with mTLS needs its allowed callers (none would admit anyone)');
    if (this.identity) peerCertificatesOncePerConnection();
    const statuses: Record<string, 'NOT_SERVING'> = { '': 'NOT_SERVING' };
    for (const svc of options.services) statuses[svc.name] = 'NOT_SERVING';
    this.health = new HealthImplementation(statuses);
    this.health.addToServer(this.server);
    for (const svc of options.services) this.server.addService(svc.definition, this.adapt(svc));
  }

  private get identity(): GrpcIdentity | undefined {
    return 'identity' in this.options ? this.options.identity : grpcIdentity();
  }

  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<number> {
    const host = this.options.host ?? '0.0.0.0';
    this.boundPort = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(`${host}:${this.options.port}`, serverCredentials(this.identity), (err, port) =>
        err ? reject(err) : resolve(port),
      );
    });
    this.setServing(true);
    this.options.logger.info({ port: this.boundPort }, 'gRPC server listening');
    return this.boundPort;
  }

  setServing(serving: boolean): void {
    const status = serving ? 'SERVING' : 'NOT_SERVING';
    this.health.setStatus('', status);
    for (const svc of this.options.services) this.health.setStatus(svc.name, status);
  }

  /** Stops accepting calls, waits for in-flight ones up to timeoutMs, then cancels the rest. */
  async shutdown(timeoutMs: number): Promise<void> {
    this.setServing(false);
    for (const drain of this.streams) drain();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.options.logger.warn('gRPC calls still running at shutdown deadline, cancelling them');
        this.server.forceShutdown();
        resolve();
      }, timeoutMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private adapt(svc: ServiceBinding): UntypedServiceImplementation {
    const impl: UntypedServiceImplementation = {};
    for (const [method, def] of Object.entries(svc.definition)) {
      const handler = svc.handlers[method];
      if (!handler) throw new Error(`${svc.name}.${method} has no handler`);
      const failed = (err: unknown) => this.logFailure(err, def.path);
      // "/im.message.v1.MessageService/SendMessages" is the message service's
      const target = { service: /^\/im\.([a-z]+)\.v\d+\./.exec(def.path)?.[1] ?? '', method, path: def.path };
      if (def.requestStream !== def.responseStream)
        throw new Error(`${svc.name}.${method}: only unary methods and request streams are served`);
      if (def.requestStream) {
        impl[def.originalName ?? method] = (
          call: ServerDuplexStream<StreamedRequest<unknown>, StreamedResult<unknown>>,
        ) => {
          if (!this.mayCall(call, target)) return void call.emit('error', forbidden());
          const drain = serveRequestStream(call, (request) => handler(request, call as never), failed);
          this.streams.add(drain);
          call.on('close', () => this.streams.delete(drain));
          call.on('cancelled', () => this.streams.delete(drain));
        };
        continue;
      }
      impl[def.originalName ?? method] = (
        call: ServerUnaryCall<unknown, unknown>,
        callback: sendUnaryData<unknown>,
      ) => {
        if (!this.mayCall(call, target)) return void callback(forbidden() as never, null);
        handler(call.request, call).then(
          (res) => callback(null, res),
          (err: unknown) => {
            failed(err);
            callback(toGrpcError(err) as never, null);
          },
        );
      };
    }
    return impl;
  }

  /** With mTLS, whether the caller's certificate names a service wired to call this method. */
  private mayCall(
    call: ServerUnaryCall<unknown, unknown> | ServerDuplexStream<unknown, unknown>,
    target: { service: string; method: string; path: string },
  ): boolean {
    const allowed = this.identity ? this.options.allowedCallers : undefined;
    if (!allowed) return true;
    const cn = call.getAuthContext().sslPeerCertificate?.subject?.CN;
    const caller = typeof cn === 'string' ? cn : undefined;
    if (caller && allowed.has(caller) && grpcMayCallMethod(caller, target.service, target.method))
      return true;
    this.options.logger.warn(
      { caller, method: target.path },
      'gRPC call from a service not wired to call this one',
    );
    return false;
  }

  private logFailure(err: unknown, path: string): void {
    const log = this.options.logger;
    const app = asAppError(err);
    if (!app) log.error({ err, method: path }, 'unexpected error in gRPC handler');
    else if (app.code === 'internal') log.error({ err, method: path }, 'internal error in gRPC handler');
    else if (app.code === 'unavailable' && app !== err)
      log.warn({ err: String(err), method: path }, 'dependency unavailable');
  }
}

function forbidden() {
  return toGrpcError(new AppError('forbidden', 'this caller may not call this service'));
}

const PEER_CERTIFICATES = new WeakMap<TLSSocket, PeerCertificate>();
const MEMOIZED = Symbol('im.peerCertificatesOncePerConnection');

/**
 * grpc-js reads the caller's certificate from the TLS socket on every call (getAuthContext), and
 * Node builds it anew each time (subject, fingerprints, public key): the largest single item of
 * the message service's CPU profile, ~0.25 ms per send. A connection's peer certificate does not
 * change once its handshake is done (TLS 1.3 has no renegotiation; a TLS 1.2 renegotiation would
 * still need a certificate of the same CA), so it is built once per connection. Only the plain
 * form is kept, and only once the handshake gave one.
 */
function peerCertificatesOncePerConnection(): void {
  const proto = TLSSocket.prototype as TLSSocket & { [MEMOIZED]?: true };
  if (proto[MEMOIZED]) return;
  const build = proto.getPeerCertificate;
  proto.getPeerCertificate = function (this: TLSSocket, detailed?: boolean) {
    if (detailed) return build.call(this, true);
    let cert = PEER_CERTIFICATES.get(this);
    if (!cert) {
      cert = build.call(this, false);
      if (cert?.raw) PEER_CERTIFICATES.set(this, cert);
    }
    return cert;
  } as TLSSocket['getPeerCertificate'];
  proto[MEMOIZED] = true;
}
/** The Caller every user-facing RPC needs (set by the gateway); unauthenticated when missing. */
export function requireCaller<C extends { userId: string; tenantId: string }>(caller: C | undefined): C {
  if (!caller?.userId || !caller.tenantId) throw new AppError('unauthenticated', 'caller is required');
  return caller;
}
