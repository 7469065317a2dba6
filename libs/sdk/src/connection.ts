import type { AnyServerFrame, ClientFrameType, ServerFrameOf } from '@im/proto/client/v1';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { Emitter } from './emitter.js';
import { ApiError } from './errors.js';
import { PendingRequests } from './pending-requests.js';
import { tokenLifetime } from './token-expiry.js';

/** The part of the WebSocket API (browsers, Node's global WebSocket, the `ws` package) used here. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

/**
 * Opens a socket and says how the token travels: on the upgrade (`header`, Node only) or as the
 * first frame (`frame`, what browsers must do: they cannot set headers on a WebSocket).
 */
export type SocketFactory = (
  url: string,
  token: string,
) => { socket: WebSocketLike; auth: 'header' | 'frame' };

/** The platform's global WebSocket (browsers, Node ≥ 22) with the auth frame. */
export const globalSocketFactory: SocketFactory = (url) => ({
  socket: new globalThis.WebSocket(url) as unknown as WebSocketLike,
  auth: 'frame',
});

/**
 * - `connecting`: a socket is opening or authenticating;
 * - `open`: `ready` received, requests go through;
 * - `waiting`: disconnected, a reconnect is scheduled (backoff, or the server's `afterMs`);
 * - `stopped`: stop() was called, or the session cannot be renewed (see `stopped` event).
 */
export type ConnectionState = 'connecting' | 'open' | 'waiting' | 'stopped';

export interface ConnectionOptions {
  /** ws(s)://host/v1/ws */
  url: string;
  /** A valid access token (the client refreshes it ahead of expiry). */
  token(): Promise<string>;
  /** Called once after a 4401 close: a new token, or a rejection when the session is over. */
  refresh(): Promise<string>;
  socketFactory?: SocketFactory;
  backoff?: BackoffOptions;
  requestTimeoutMs?: number;
  /** After this much silence from the server, a `ping` checks the connection is alive. */
  pingIntervalMs?: number;
  /** A ping unanswered this long counts as a dead connection: drop it and reconnect. */
  pingTimeoutMs?: number;
  /** auth.refresh goes this long before the socket's token expires (default: 45 s, or a third of a shorter lifetime). */
  renewBeforeExpiryMs?: number;
  random?: () => number;
}

export interface ConnectionEvents {
  state: (state: ConnectionState) => void;
  /** A session started: `reconnected` is true after the first one (time to heal gaps with sync). */
  ready: (ready: ServerFrameOf<'ready'>, info: { reconnected: boolean }) => void;
  /** Every server event (acks and errors of requests go to their promise instead). */
  frame: (frame: AnyServerFrame) => void;
  /** The connection gave up: the session is revoked or the token cannot be renewed. */
  stopped: (error?: ApiError) => void;
}

const OPEN = 1;

/** The server said the session cannot go on (as opposed to being unreachable or busy). */
function isSessionOver(err: unknown): err is ApiError {
  return err instanceof ApiError && (err.status === 401 || err.status === 403);
}

/**
 * One logical connection to the gateway that survives drops: it reconnects with exponential
 * backoff and jitter, treats a `reconnect` frame or close 1012 as a planned move (reconnect after
 * `afterMs`, to any gateway), refreshes the token once after a 4401 and gives up if that fails, and
 * detects dead connections with pings (a browser cannot see the server's pings).
 */
export class ImConnection extends Emitter<ConnectionEvents> {
  private current: WebSocketLike | undefined;
  private pending = new PendingRequests();
  private stateValue: ConnectionState = 'stopped';
  private attempt = 0;
  private sessions = 0;
  private refreshedSinceReady = false;
  private plannedAfterMs: number | undefined;
  private lastError: ServerFrameOf<'error'> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private renewTimer: ReturnType<typeof setTimeout> | undefined;
  /** The token the open socket authenticated with (or last renewed to). */
  private socketToken: string | undefined;
  private lastHeardAt = 0;
  private pinging = false;
  /** Bumped by start() and stop(): an open() that awaited across one of them stands down. */
  private generation = 0;
  private readonly socketFactory: SocketFactory;
  private readonly random: () => number;

  constructor(private readonly options: ConnectionOptions) {
    super();
    this.socketFactory = options.socketFactory ?? globalSocketFactory;
    this.random = options.random ?? Math.random;
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  /** Connects (and keeps reconnecting until stop()). */
  start(): void {
    if (this.stateValue !== 'stopped') return;
    this.generation++;
    this.attempt = 0;
    this.refreshedSinceReady = false;
    void this.open();
  }

  /** Closes for good; waiting requests reject with `connection_closed`. */
  stop(): void {
    if (this.stateValue === 'stopped') return;
    this.generation++;
    this.setState('stopped');
    this.dropSocket(1000, 'client stopped');
    this.emit('stopped');
  }

  /** Reconnects at once when waiting (e.g. the browser says it is back online). */
  reconnectNow(): void {
    if (this.stateValue !== 'waiting') return;
    clearTimeout(this.retryTimer);
    void this.open();
  }

  /** Sends a request frame and resolves with its ack; ApiError on an error frame, a timeout or a drop. */
  request(
    type: ClientFrameType,
    payload: Record<string, unknown> = {},
    id: string = globalThis.crypto.randomUUID(),
  ): Promise<ServerFrameOf<'ack'>> {
    const socket = this.current;
    if (this.stateValue !== 'open' || !socket || socket.readyState !== OPEN)
      return Promise.reject(new ApiError('not_connected', `not connected (${this.stateValue})`));
    const answered = this.pending.add(id, type, this.options.requestTimeoutMs ?? 15_000);
    socket.send(JSON.stringify({ ...payload, type, id }));
    return answered;
  }

  private async open(): Promise<void> {
    const generation = this.generation;
    this.setState('connecting');
    this.lastError = undefined;
    this.plannedAfterMs = undefined;
    let token: string;
    try {
      token = await this.options.token();
    } catch (err) {
      if (generation !== this.generation || this.stateValue !== 'connecting') return;
      if (isSessionOver(err)) return this.giveUp(err);
      return this.scheduleRetry(); // offline, a 5xx, a 429: the session may be fine
    }
    if (generation !== this.generation || this.stateValue !== 'connecting') return;
    const { socket, auth } = this.socketFactory(this.options.url, token);
    this.current = socket;
    this.socketToken = token;
    socket.onopen = () => {
      if (auth === 'frame') socket.send(JSON.stringify({ type: 'auth', token }));
    };
    socket.onmessage = (ev) => this.onFrame(socket, ev.data);
    socket.onerror = () => undefined;
    socket.onclose = (ev) => this.onClose(socket, ev.code);
    // a handshake into a dead network may hang far longer than anyone wants to wait
    this.connectTimer = setTimeout(() => {
      if (socket !== this.current || this.stateValue !== 'connecting') return;
      this.dropSocket(4000, 'no ready in time');
      this.scheduleRetry();
    }, this.options.requestTimeoutMs ?? 15_000);
  }

  private onFrame(socket: WebSocketLike, data: unknown): void {
    if (socket !== this.current) return;
    this.lastHeardAt = Date.now();
    let frame: AnyServerFrame;
    try {
      frame = JSON.parse(String(data)) as AnyServerFrame;
    } catch {
      return;
    }
    if (this.pending.settle(frame)) return;
    switch (frame.type) {
      case 'ready':
        clearTimeout(this.connectTimer);
        this.attempt = 0;
        this.refreshedSinceReady = false;
        this.setState('open');
        this.startHeartbeat(socket);
        this.scheduleRenewal(socket);
        this.emit('ready', frame, { reconnected: this.sessions++ > 0 });
        return;
      case 'reconnect':
        this.plannedAfterMs = frame.afterMs;
        return;
      case 'error':
        this.lastError = frame;
        break;
    }
    this.emit('frame', frame);
  }

  private onClose(socket: WebSocketLike, code: number): void {
    if (socket !== this.current) return;
    this.detach();
    if (this.stateValue === 'stopped') return;
    if (code === 4401) {
      if (this.refreshedSinceReady) return this.giveUp(this.closeError(code));
      this.refreshedSinceReady = true;
      this.setState('connecting');
      const generation = this.generation;
      this.options.refresh().then(
        () => generation === this.generation && this.stateValue === 'connecting' && void this.open(),
        (err: unknown) => {
          if (generation !== this.generation) return;
          if (isSessionOver(err)) return this.giveUp(err);
          // could not reach auth: try again later, with a fresh chance to refresh
          this.refreshedSinceReady = false;
          this.scheduleRetry();
        },
      );
      return;
    }
    if (code === 1012 || this.plannedAfterMs !== undefined) {
      // a planned move: everyone told at once, so spread the reconnects over a second
      return this.scheduleRetry((this.plannedAfterMs ?? 0) + Math.floor(this.random() * 1_000));
    }
    this.scheduleRetry();
  }

  private scheduleRetry(delayMs = backoffDelay(this.attempt++, this.options.backoff, this.random)): void {
    this.setState('waiting');
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.open(), delayMs);
  }

  private giveUp(error: ApiError): void {
    if (this.stateValue === 'stopped') return;
    this.setState('stopped');
    this.dropSocket(1000, 'giving up');
    this.emit('stopped', error);
  }

  private closeError(code: number): ApiError {
    return new ApiError(
      this.lastError?.code ?? 'unauthenticated',
      `${this.lastError?.message ?? 'the session ended'} (close ${code})`,
      401,
    );
  }

  /**
   * An open socket whose access token expires is closed by the server (4401): shortly before, get
   * a fresh token (the client refreshes within a minute of expiry) and hand it over (auth.refresh).
   */
  private scheduleRenewal(socket: WebSocketLike): void {
    clearTimeout(this.renewTimer);
    const life = this.socketToken ? tokenLifetime(this.socketToken) : undefined;
    if (!life) return; // an API key: it does not expire
    // 45 s ahead, or a third of a short lifetime (the client refreshes within half of it)
    const lead = this.options.renewBeforeExpiryMs ?? Math.min(45_000, (life.expiresAt - life.issuedAt) / 3);
    this.renewTimer = setTimeout(
      () => void this.renew(socket),
      Math.max(1_000, life.expiresAt - Date.now() - lead),
    );
  }

  private async renew(socket: WebSocketLike): Promise<void> {
    if (socket !== this.current) return;
    try {
      const token = await this.options.token();
      if (socket !== this.current) return;
      if (token === this.socketToken) throw new Error('no fresh token yet');
      await this.request('auth.refresh', { token });
      this.socketToken = token;
    } catch {
      // try again soon; if the token lapses meanwhile the server closes with 4401 and we reconnect
      if (socket === this.current) this.renewTimer = setTimeout(() => void this.renew(socket), 10_000);
      return;
    }
    this.scheduleRenewal(socket);
  }

  /** Pings after silence; an unanswered ping means a dead link (no close ever comes): drop it. */
  private startHeartbeat(socket: WebSocketLike): void {
    const every = this.options.pingIntervalMs ?? 20_000;
    this.lastHeardAt = Date.now();
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(
      () => {
        if (this.pinging || Date.now() - this.lastHeardAt < every) return;
        this.pinging = true;
        const id = globalThis.crypto.randomUUID();
        const answered = this.pending.add(id, 'ping', this.options.pingTimeoutMs ?? 10_000);
        socket.send(JSON.stringify({ type: 'ping', id }));
        answered.then(
          () => (this.pinging = false),
          () => {
            this.pinging = false;
            if (socket !== this.current) return;
            this.dropSocket(4000, 'no answer to ping');
            if (this.stateValue !== 'stopped') this.scheduleRetry();
          },
        );
      },
      Math.max(250, Math.floor(every / 4)),
    );
  }

  /** Forgets the socket now (its close may never come on a dead link) and closes it. */
  private dropSocket(code: number, reason: string): void {
    const socket = this.current;
    this.detach();
    clearTimeout(this.retryTimer);
    if (!socket) return;
    socket.onmessage = socket.onclose = socket.onopen = null;
    try {
      socket.close(code, reason);
    } catch {
      // already closing
    }
  }

  private detach(): void {
    this.current = undefined;
    clearTimeout(this.connectTimer);
    clearTimeout(this.renewTimer);
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    this.pending.failAll(new ApiError('connection_closed', 'the connection closed before the answer'));
    this.pending = new PendingRequests();
  }

  private setState(state: ConnectionState): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    this.emit('state', state);
  }
}
