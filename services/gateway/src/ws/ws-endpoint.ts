import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { WebSocketServer, type WebSocket } from 'ws';
import { AppError } from '@im/platform/errors';
import type { Logger } from '@im/platform/logging';
import { CONFIG, LOGGER } from '@im/platform/nest';
import { meter } from '@im/platform/telemetry';
import { RevokedSessions } from '../auth/revoked-sessions.js';
import { TokenVerifier, type Principal } from '../auth/token-verifier.js';
import type { GatewayConfig } from '../config.js';
import { authFrame } from '../http/request-schemas.js';
import { ConnectionRegistry } from '../live/connection-registry.js';
import { serverFrameJson } from '../live/server-frames.js';
import { CloseCode } from './close-codes.js';
import { Connection } from './connection.js';
import { FrameRouter } from './frame-router.js';

/** Frames above this close the socket with 1009; below it and above WS_MAX_FRAME_BYTES they get payload_too_large. */
const HARD_FRAME_LIMIT = 1_048_576;
/** The same leeway the token verifier gives (clockTolerance). */
const TOKEN_LEEWAY_MS = 5_000;

/**
 * GET /v1/ws: upgrade, authentication (Authorization header, or an auth frame within
 * WS_AUTH_TIMEOUT_MS), the ready frame, server pings and idle close, revocation, and the drain.
 */
@Injectable()
export class WsEndpoint implements OnApplicationShutdown {
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: HARD_FRAME_LIMIT,
    perMessageDeflate: false,
    clientTracking: false,
  });
  private heartbeat: NodeJS.Timeout | undefined;
  private accepting = true;
  private readonly sockets = meter().createUpDownCounter('im_gateway_ws_connections', {
    description: 'authenticated sockets',
  });

  constructor(
    private readonly verifier: TokenVerifier,
    private readonly connections: ConnectionRegistry,
    private readonly router: FrameRouter,
    revoked: RevokedSessions,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    revoked.onRevoked((sessionId) => {
      for (const conn of [...(this.connections.ofSession(sessionId) ?? [])]) {
        conn.sendFrame({
          type: 'error',
          code: 'session_revoked',
          message: 'session was revoked: log in again',
        });
        conn.close(CloseCode.unauthenticated, 'session revoked');
      }
    });
  }

  start(): void {
    this.heartbeat = setInterval(() => this.beat(), this.config.WS_HEARTBEAT_INTERVAL_MS);
    this.heartbeat.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.heartbeat);
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://gateway');
    if (url.pathname !== '/v1/ws')
      return refuse(socket, 404, 'not_found', `no WebSocket endpoint at ${url.pathname}`);
    if (!this.accepting)
      return refuse(socket, 503, 'unavailable', 'gateway is restarting: reconnect to another one');
    if (url.searchParams.has('token') || url.searchParams.has('access_token')) {
      return refuse(
        socket,
        400,
        'invalid_argument',
        'tokens are not accepted in the URL: use the Authorization header or an auth frame',
      );
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => void this.onSocket(ws, req));
  }

  private async onSocket(ws: WebSocket, req: IncomingMessage): Promise<void> {
    ws.on('error', (err) => this.logger.debug({ err }, 'socket error'));
    const header = req.headers.authorization;
    if (header !== undefined) {
      const token = TokenVerifier.bearer(header);
      if (!token)
        return this.deny(ws, new AppError('invalid_token', 'Authorization header must be "Bearer <token>"'));
      try {
        return this.attach(ws, await this.verifier.verify(token));
      } catch (err) {
        return this.deny(ws, err);
      }
    }
    // Browsers cannot set headers on a WebSocket: the first frame must be {"type":"auth","token":...}.
    const timer = setTimeout(
      () =>
        this.deny(
          ws,
          new AppError('unauthenticated', `no auth frame within ${this.config.WS_AUTH_TIMEOUT_MS} ms`),
        ),
      this.config.WS_AUTH_TIMEOUT_MS,
    );
    ws.once('message', async (data, isBinary) => {
      clearTimeout(timer);
      try {
        if (isBinary) throw new AppError('unauthenticated', 'the first frame must be the auth frame');
        let parsed: unknown;
        try {
          parsed = JSON.parse(data.toString());
        } catch {
          throw new AppError('invalid_json', 'the first frame must be the auth frame (JSON)');
        }
        const result = authFrame.safeParse(parsed);
        if (!result.success)
          throw new AppError('unauthenticated', 'the first frame must be {"type":"auth","token":"..."}');
        this.attach(ws, await this.verifier.verify(result.data.token));
      } catch (err) {
        this.deny(ws, err);
      }
    });
    ws.once('close', () => clearTimeout(timer));
  }

  private attach(ws: WebSocket, principal: Principal): void {
    if (ws.readyState !== ws.OPEN) return;
    const held = this.connections.ofUser(principal.userId)?.size ?? 0;
    if (held >= this.config.WS_MAX_SOCKETS_PER_USER) {
      this.logger.warn({ userId: principal.userId, held }, 'socket refused: the user is at the per-user cap');
      ws.send(
        serverFrameJson({
          type: 'error',
          code: 'limit_exceeded',
          message: `this user already has ${held} sockets open on this gateway: close one first`,
        }),
      );
      return ws.close(CloseCode.tooManySockets, 'too many sockets');
    }
    const conn = new Connection(ws, principal, this.config.WS_MAX_BUFFERED_BYTES);
    this.connections.add(conn);
    this.sockets.add(1);
    ws.on('message', (data, isBinary) => void this.router.handle(conn, data, isBinary));
    ws.on('pong', () => (conn.lastSeen = Date.now()));
    ws.once('close', () => {
      this.connections.remove(conn);
      this.sockets.add(-1);
    });
    conn.sendFrame({
      type: 'ready',
      userId: principal.userId,
      sessionId: principal.sessionId,
      heartbeatIntervalMs: this.config.WS_HEARTBEAT_INTERVAL_MS,
    });
  }

  private deny(ws: WebSocket, err: unknown): void {
    const app = err instanceof AppError ? err : new AppError('unauthenticated', 'authentication failed');
    if (ws.readyState !== ws.OPEN) return;
    ws.send(serverFrameJson({ type: 'error', code: app.code, message: app.message }));
    ws.close(CloseCode.unauthenticated, app.code);
  }

  /**
   * Pings, closes silent sockets, and closes sockets whose access token expired (no auth.refresh
   * in time) with 4401: checked here rather than with a timer per socket, so the close comes within
   * one heartbeat interval after the expiry (plus the verifier's 5 s leeway).
   */
  private beat(): void {
    const now = Date.now();
    for (const conn of this.connections.all()) {
      if (now - conn.lastSeen > this.config.WS_IDLE_TIMEOUT_MS) conn.ws.terminate();
      else if (now > conn.principal.expiresAt + TOKEN_LEEWAY_MS && conn.principal.apiKey)
        void this.recheckKey(conn, conn.principal.apiKey);
      else if (now > conn.principal.expiresAt + TOKEN_LEEWAY_MS) {
        conn.sendFrame({
          type: 'error',
          code: 'token_expired',
          message: 'access token expired: send auth.refresh before expiry, or reconnect with a fresh token',
        });
        conn.close(CloseCode.unauthenticated, 'token expired');
      } else if (conn.ws.readyState === conn.ws.OPEN) conn.ws.ping();
    }
  }

  /** A bot's socket: its key still valid goes on (for another while), a revoked one is closed. */
  private async recheckKey(conn: Connection, apiKey: string): Promise<void> {
    conn.principal = { ...conn.principal, expiresAt: Number.POSITIVE_INFINITY }; // one check at a time
    try {
      conn.principal = await this.verifier.verify(apiKey);
    } catch (err) {
      const app = err instanceof AppError ? err : undefined;
      if (!app || app.code === 'unavailable' || app.code === 'timeout') {
        conn.principal = { ...conn.principal, expiresAt: Date.now() + 30_000 }; // auth away: ask again soon
        return;
      }
      conn.sendFrame({ type: 'error', code: app.code, message: app.message });
      conn.close(CloseCode.unauthenticated, app.code);
    }
  }

  /**
   * Drain: refuse new sockets and requests, let in-flight requests finish, then tell every client
   * to reconnect (with a random delay so they do not all come back at once) and close with 1012.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.accepting = false;
    this.router.startDraining();
    const deadline = Date.now() + timeoutMs;
    const busy = () => [...this.connections.all()].some((c) => c.pending > 0);
    while (busy() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const all = [...this.connections.all()];
    for (const conn of all) {
      conn.sendFrame({ type: 'reconnect', afterMs: Math.floor(Math.random() * 2_000) });
      conn.close(CloseCode.serviceRestart, 'service restart');
    }
    const closeBy = Math.min(deadline, Date.now() + 2_000);
    while (this.connections.connectionCount > 0 && Date.now() < closeBy)
      await new Promise((r) => setTimeout(r, 20));
    for (const conn of this.connections.all()) conn.ws.terminate();
    this.logger.info({ sockets: all.length }, 'websockets drained');
  }
}

function refuse(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : status === 503 ? 'Service Unavailable' : 'Bad Request'}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
