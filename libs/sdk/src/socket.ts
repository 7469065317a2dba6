import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import type { Message, SyncedConversation } from '@im/proto/client/v1';
import { ApiError } from './errors.js';

/** Any frame the server sends; `type` says which (see the AsyncAPI document). */
export interface ServerFrame {
  type: string;
  id?: string;
  [key: string]: unknown;
}

export interface SocketOptions {
  /** "header": Authorization on the upgrade (default); "frame": the browser way, an auth frame first. */
  auth?: 'header' | 'frame';
  requestTimeoutMs?: number;
}

export interface CloseInfo {
  code: number;
  reason: string;
}

/**
 * One WebSocket session: request/response by frame id, plus every event the server pushes
 * (kept in `events`, waitable with waitFor).
 */
export class ImSocket {
  readonly events: ServerFrame[] = [];
  readonly closed: Promise<CloseInfo>;
  ready!: { userId: string; sessionId: string; heartbeatIntervalMs: number };
  private readonly pending = new Map<
    string,
    { resolve(f: ServerFrame): void; reject(e: Error): void; timer: NodeJS.Timeout }
  >();
  private readonly waiters = new Set<{ match(f: ServerFrame): boolean; resolve(f: ServerFrame): void }>();
  private readonly listeners = new Set<(f: ServerFrame) => void>();
  private closeInfo: CloseInfo | undefined;

  private constructor(
    readonly ws: WebSocket,
    private readonly requestTimeoutMs: number,
  ) {
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        for (const p of this.pending.values()) {
          clearTimeout(p.timer);
          p.reject(new ApiError('connection_closed', `socket closed (${code}) before the answer`));
        }
        this.pending.clear();
        resolve(this.closeInfo);
      }),
    );
    ws.on('message', (data) => this.onFrame(JSON.parse(data.toString()) as ServerFrame));
    ws.on('error', () => undefined);
  }

  /** Opens a socket and resolves once the server said ready (rejects with the error frame otherwise). */
  static connect(url: string, token: string, options: SocketOptions = {}): Promise<ImSocket> {
    const auth = options.auth ?? 'header';
    const ws = new WebSocket(url, auth === 'header' ? { headers: { authorization: `Bearer ${token}` } } : {});
    const socket = new ImSocket(ws, options.requestTimeoutMs ?? 20_000);
    return new Promise((resolve, reject) => {
      let error: ServerFrame | undefined;
      const onFrame = (f: ServerFrame) => {
        if (f.type === 'ready') {
          socket.ready = f as unknown as ImSocket['ready'];
          socket.listeners.delete(onFrame);
          resolve(socket);
        } else if (f.type === 'error') error = f;
      };
      socket.listeners.add(onFrame);
      if (auth === 'frame') ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', token })));
      ws.on('unexpected-response', (_req, res) =>
        reject(new ApiError('upgrade_refused', `HTTP ${res.statusCode}`, res.statusCode ?? 0)),
      );
      void socket.closed.then(({ code, reason }) =>
        reject(
          new ApiError(
            String(error?.code ?? 'connection_closed'),
            `${String(error?.message ?? reason)} (close ${code})`,
          ),
        ),
      );
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends a request frame and resolves with its ack; rejects with ApiError on an error frame. */
  request<T extends object = ServerFrame>(
    type: string,
    payload: Record<string, unknown> = {},
    id = randomUUID(),
  ): Promise<T & ServerFrame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ApiError('timeout', `no answer to ${type} within ${this.requestTimeoutMs} ms`));
      }, this.requestTimeoutMs);
      this.pending.set(id, { resolve: resolve as (f: ServerFrame) => void, reject, timer });
      this.ws.send(JSON.stringify({ ...payload, type, id }));
    });
  }

  /** Sends raw text (tests of bad input). */
  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  async sendMessage(
    conversationId: string,
    text: string,
    clientMsgId: string = randomUUID(),
  ): Promise<Message> {
    const ack = await this.request<{ message: Message }>('message.send', {
      conversationId,
      clientMsgId,
      text,
    });
    return ack.message;
  }

  async sync(conversations: Array<{ conversationId: string; afterSeq: number }> = [], limit?: number) {
    return this.request<{ conversations: SyncedConversation[]; hasMore: boolean }>('sync', {
      conversations,
      ...(limit ? { limit } : {}),
    });
  }

  /** Resolves with the first event (past or future) that matches. */
  waitFor(match: (f: ServerFrame) => boolean, timeoutMs = 10_000): Promise<ServerFrame> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (f: ServerFrame) => (clearTimeout(timer), this.waiters.delete(waiter), resolve(f)),
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new ApiError('timeout', `expected event not received within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  onEvent(listener: (f: ServerFrame) => void): void {
    this.listeners.add(listener);
  }

  messagesOf(conversationId: string): Message[] {
    return this.events
      .filter((e) => e.type === 'message.new' && (e.message as Message).conversationId === conversationId)
      .map((e) => e.message as Message);
  }

  close(code = 1000): Promise<CloseInfo> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)
      this.ws.close(code);
    return this.closed;
  }

  private onFrame(frame: ServerFrame): void {
    if (
      (frame.type === 'ack' || frame.type === 'error') &&
      frame.id !== undefined &&
      this.pending.has(frame.id)
    ) {
      const p = this.pending.get(frame.id)!;
      this.pending.delete(frame.id);
      clearTimeout(p.timer);
      if (frame.type === 'ack') p.resolve(frame);
      else
        p.reject(
          new ApiError(
            String(frame.code),
            String(frame.message),
            0,
            frame.retryAfterMs as number | undefined,
          ),
        );
      return;
    }
    this.events.push(frame);
    for (const l of this.listeners) l(frame);
    for (const w of [...this.waiters]) if (w.match(frame)) w.resolve(frame);
  }
}
