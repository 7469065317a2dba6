import type { AddressInfo } from 'node:net';
import { Inject, Injectable } from '@nestjs/common';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { AppError, asAppError } from '@im/platform/errors';
import type { Logger } from '@im/platform/logging';
import { CONFIG, LOGGER } from '@im/platform/nest';
import type { EdgeServer } from '@im/platform/service';
import { JwksCache } from '../auth/jwks-cache.js';
import { TokenVerifier, type Principal } from '../auth/token-verifier.js';
import { Downstream } from '../clients/downstream.js';
import type { GatewayConfig } from '../config.js';
import { Messaging } from '../domain/messaging.js';
import { WsEndpoint } from '../ws/ws-endpoint.js';
import { asyncApiDocument, openApiDocument } from './api-documents.js';
import { parse } from './request-schemas.js';
import { buildRoutes, type Route } from './routes.js';
import { sendAppShell, serveWebClient } from './web-client.js';
import { InFlightRequests } from '../domain/in-flight-requests.js';

/** The public port: REST under /v1, the JWKS, the API documents and the WebSocket upgrade. */
@Injectable()
export class PublicServer implements EdgeServer {
  readonly name = 'public';
  private app: FastifyInstance | undefined;
  private port = 0;

  constructor(
    private readonly verifier: TokenVerifier,
    private readonly ws: WsEndpoint,
    private readonly downstream: Downstream,
    private readonly messaging: Messaging,
    private readonly jwks: JwksCache,
    private readonly inFlight: InFlightRequests,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  describe(): Record<string, number> {
    return { publicPort: this.port };
  }

  async start(): Promise<void> {
    const app = Fastify({
      logger: false,
      bodyLimit: this.config.REST_BODY_LIMIT_BYTES,
      // only the listed hops are believed: a client cannot pick its own IP with X-Forwarded-For
      trustProxy: this.config.TRUSTED_PROXIES ?? false,
      return503OnClosing: true,
      routerOptions: { ignoreTrailingSlash: true },
    });
    this.app = app;
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
      if (body === '') return done(null, undefined);
      try {
        done(null, JSON.parse(body as string));
      } catch {
        done(
          new AppError('invalid_json', 'request body is not valid JSON') as unknown as FastifyError,
          undefined,
        );
      }
    });
    app.setErrorHandler((err, _req, reply) => this.sendError(reply, err));
    const webClientDir = this.config.WEB_CLIENT_DIR;
    if (webClientDir) await serveWebClient(app, webClientDir, this.config.WEB_CLIENT_MEDIA_ORIGIN);
    app.setNotFoundHandler(
      (req, reply) =>
        (webClientDir ? sendAppShell(req, reply) : undefined) ??
        this.sendError(reply, new AppError('not_found', `no route ${req.method} ${req.url.split('?')[0]}`)),
    );

    const routes = buildRoutes({
      downstream: this.downstream,
      messaging: this.messaging,
      jwks: this.jwks,
      clientInfo: (req) => ({ ip: req.ip, userAgent: String(req.headers['user-agent'] ?? '') }),
    });
    for (const r of routes) this.register(app, r);
    const openapi = openApiDocument(routes);
    const asyncapi = asyncApiDocument();
    app.get('/v1/openapi.json', async () => openapi);
    app.get('/v1/asyncapi.json', async () => asyncapi);

    app.server.on('upgrade', (req, socket, head) => this.ws.handleUpgrade(req, socket, head));
    await app.listen({ port: this.config.PUBLIC_PORT, host: '0.0.0.0' });
    this.port = (app.server.address() as AddressInfo).port;
    this.ws.start();
  }

  async stop(timeoutMs: number): Promise<void> {
    await this.ws.drain(Math.max(0, timeoutMs - 1_000));
    await this.app?.close();
  }

  private register(app: FastifyInstance, r: Route): void {
    app.route({
      method: r.method,
      url: r.path,
      handler: async (req, reply) => {
        const result = await this.inFlight.run(async () => {
          const principal = r.auth ? await this.authenticate(req) : (undefined as unknown as Principal);
          return r.handler({
            principal,
            body: (r.body ? parse(r.body, req.body, 'body') : undefined) as never,
            query: (r.query ? parse(r.query, req.query, 'query') : undefined) as never,
            params: (r.params ? parse(r.params, req.params, 'path') : undefined) as never,
            request: req,
          });
        });
        reply.code(result.status);
        return result.status === 204 ? reply.send() : reply.send(result.body);
      },
    });
  }

  private async authenticate(req: FastifyRequest): Promise<Principal> {
    const header = req.headers.authorization;
    if (header === undefined)
      throw new AppError('unauthenticated', 'Authorization: Bearer <accessToken> required');
    const token = TokenVerifier.bearer(header);
    if (!token) throw new AppError('invalid_token', 'Authorization header must be "Bearer <token>"');
    return this.verifier.verify(token);
  }

  private sendError(reply: FastifyReply, err: unknown): FastifyReply {
    let app: AppError;
    const known = asAppError(err);
    if (known) app = known;
    else {
      const fe = err as FastifyError;
      if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
        app = new AppError(
          'payload_too_large',
          `request body exceeds ${this.config.REST_BODY_LIMIT_BYTES} bytes`,
        );
      else if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
        app = new AppError('invalid_argument', 'Content-Type must be application/json');
      else if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500)
        app = new AppError('invalid_argument', fe.message);
      else {
        this.logger.error({ err }, 'unexpected error in REST handler');
        app = new AppError('internal', 'internal error');
      }
    }
    if (app.code === 'internal') this.logger.error({ err: app }, 'internal error answered');
    else if (app.detail)
      this.logger.warn({ code: app.code, detail: app.detail }, 'dependency failure answered');
    if (app.retryAfterMs !== undefined)
      reply.header('Retry-After', String(Math.ceil(app.retryAfterMs / 1000)));
    return reply.code(app.httpStatus).send(app.toBody());
  }
}
