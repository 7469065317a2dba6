import WebSocket from 'ws';
import type {
  AnyServerFrame,
  ClientFrameType,
  Message,
  ServerFrameOf,
  ServerFrameType,
} from '@im/proto/client/v1';
import type { SocketFactory, WebSocketLike } from './connection.js';
import { ApiError } from './errors.js';
import { PendingRequests } from './pending-requests.js';

/** ImConnection in Node: the token on the upgrade, with the `ws` package. */
export const headerSocketFactory: SocketFactory = (url, token) => ({
  socket: new WebSocket(url, { headers: { authorization: `Bearer ${token}` } }) as unknown as WebSocketLike,
  auth: 'header',
});

/** Any frame the server sends, discriminated by `type` (proto/im/client/v1/frames.proto). */
export type ServerFrame = AnyServerFrame;
export type AckFrame = ServerFrameOf<'ack'>;
export type { ServerFrameOf, ServerFrameType };

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
  ready!: ServerFrameOf<'ready'>;
  private readonly pending = new PendingRequests();
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
        this.pending.failAll(new ApiError('connection_closed', `socket closed (${code}) before the answer`));
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
      let error: ServerFrameOf<'error'> | undefined;
      const onFrame = (f: ServerFrame) => {
        if (f.type === 'ready') {
          socket.ready = f;
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

  /**
   * Sends a request frame and resolves with its ack; rejects with ApiError on an error frame. The
   * payload is not checked here: the gateway validates it (tests send bad ones on purpose).
   */
  request(
    type: ClientFrameType | (string & {}),
    payload: Record<string, unknown> = {},
    id: string = globalThis.crypto.randomUUID(),
  ): Promise<AckFrame> {
    const answered = this.pending.add(id, type, this.requestTimeoutMs);
    this.ws.send(JSON.stringify({ ...payload, type, id }));
    return answered;
  }

  /** Sends raw text (tests of bad input). */
  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  async sendMessage(
    conversationId: string,
    text: string,
    clientMsgId: string = globalThis.crypto.randomUUID(),
  ): Promise<Message> {
    const ack = await this.request('message.send', { conversationId, clientMsgId, text });
    if (!ack.message) throw new ApiError('invalid_response', 'the ack of message.send carries no message');
    return ack.message;
  }

  /** message.edit, message.delete, reaction.add / reaction.remove: the message after the change. */
  async changeMessage(
    type: 'message.edit' | 'message.delete' | 'reaction.add' | 'reaction.remove',
    payload: { conversationId: string; seq: number; text?: string; emoji?: string },
  ): Promise<Message> {
    const ack = await this.request(type, payload);
    if (!ack.message) throw new ApiError('invalid_response', `the ack of ${type} carries no message`);
    return ack.message;
  }

  async sync(
    conversations: Array<{ conversationId: string; afterSeq: number; afterVersion?: number }> = [],
    limit?: number,
  ) {
    const ack = await this.request('sync', { conversations, ...(limit ? { limit } : {}) });
    return { conversations: ack.conversations ?? [], hasMore: ack.hasMore ?? false };
  }

  /**
   * Resolves with the first event (past or future) of a type that matches:
   * `waitFor('message.new', (f) => f.message?.seq === 2)`, or with any frame that matches.
   */
  waitFor<T extends ServerFrameType>(
    type: T,
    match?: (f: ServerFrameOf<T>) => boolean,
    timeoutMs?: number,
  ): Promise<ServerFrameOf<T>>;
  waitFor<F extends ServerFrame>(match: (f: ServerFrame) => f is F, timeoutMs?: number): Promise<F>;
  waitFor(match: (f: ServerFrame) => boolean, timeoutMs?: number): Promise<ServerFrame>;
  waitFor(
    what: ServerFrameType | ((f: ServerFrame) => boolean),
    matchOrTimeout?: ((f: never) => boolean) | number,
    timeoutMaybe?: number,
  ): Promise<ServerFrame> {
    if (typeof what === 'string') {
      const also = (typeof matchOrTimeout === 'function' ? matchOrTimeout : () => true) as (
        f: ServerFrame,
      ) => boolean;
      return this.waitForFrame((f) => f.type === what && also(f), timeoutMaybe);
    }
    return this.waitForFrame(what, typeof matchOrTimeout === 'number' ? matchOrTimeout : undefined);
  }

  private waitForFrame(match: (f: ServerFrame) => boolean, timeoutMs = 10_000): Promise<ServerFrame> {
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
      .filter((e) => e.type === 'message.new')
      .map((e) => e.message!)
      .filter((m) => m.conversationId === conversationId);
  }

  close(code = 1000): Promise<CloseInfo> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)
      this.ws.close(code);
    return this.closed;
  }

  private onFrame(frame: ServerFrame): void {
    if (this.pending.settle(frame)) return;
    this.events.push(frame);
    for (const l of this.listeners) l(frame);
    for (const w of [...this.waiters]) if (w.match(frame)) w.resolve(frame);
  }
}
