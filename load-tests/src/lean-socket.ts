import WebSocket from 'ws';

export interface MessageNew {
  conversationId: string;
  seq: number;
  senderId: string;
  text: string;
}

/**
 * A WebSocket client for load: request/ack by id and a callback per message.new, nothing kept.
 * The SDK's ImSocket keeps every event for tests; at 10k sockets that would measure the client.
 */
export class LeanSocket {
  private nextId = 0;
  private readonly pending = new Map<number, (ok: boolean, frame: Record<string, unknown>) => void>();
  onMessage: ((m: MessageNew, frame: Record<string, unknown>) => void) | undefined;
  onPresence: ((userId: string, status: string) => void) | undefined;
  /** message.updated: the message after an edit, delete or reaction. */
  onUpdated: ((m: MessageNew & { version: number }) => void) | undefined;
  onClose: ((code: number) => void) | undefined;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Record<string, unknown>;
      if (frame.type === 'message.new') {
        this.onMessage?.(frame.message as MessageNew, frame);
      } else if (frame.type === 'message.updated') {
        this.onUpdated?.(frame.message as MessageNew & { version: number });
      } else if (frame.type === 'presence') {
        this.onPresence?.(frame.userId as string, frame.status as string);
      } else if (frame.type === 'ack' || frame.type === 'error') {
        const id = Number(frame.id);
        const cb = this.pending.get(id);
        if (cb) {
          this.pending.delete(id);
          cb(frame.type === 'ack', frame);
        }
      }
    });
    ws.on('close', (code) => {
      for (const cb of this.pending.values()) cb(false, { code: 'connection_closed' });
      this.pending.clear();
      this.onClose?.(code);
    });
    ws.on('error', () => undefined);
  }

  static connect(url: string, token: string): Promise<LeanSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, {
        headers: { authorization: `Bearer ${token}` },
        perMessageDeflate: false,
      });
      ws.once('message', (data) => {
        const frame = JSON.parse(data.toString()) as { type: string; code?: string };
        if (frame.type === 'ready') resolve(new LeanSocket(ws));
        else reject(new Error(`connect refused: ${frame.code}`));
      });
      ws.once('error', reject);
      ws.once('unexpected-response', (_q, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  /** Sends a request; the callback gets (acknowledged?, frame). */
  request(
    type: string,
    payload: Record<string, unknown>,
    cb: (ok: boolean, frame: Record<string, unknown>) => void,
  ): void {
    const id = ++this.nextId;
    this.pending.set(id, cb);
    this.ws.send(JSON.stringify({ ...payload, type, id: String(id) }));
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Sends a request and resolves with its ack (rejects on an error frame). */
  ask(type: string, payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) =>
      this.request(type, payload, (ok, frame) =>
        ok ? resolve(frame) : reject(new Error(String(frame.code))),
      ),
    );
  }

  close(): void {
    this.ws.close();
  }

  /** Resolves once the socket is closed. */
  closed(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => this.ws.once('close', () => resolve()));
  }
}
