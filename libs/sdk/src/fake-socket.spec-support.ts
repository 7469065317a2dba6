import type { SocketFactory, WebSocketLike } from './connection.js';

/** A WebSocket stand-in for unit tests: records what the client sends, lets the test play the server. */
export class FakeSocket implements WebSocketLike {
  readyState = 0;
  readonly sent: Array<Record<string, unknown>> = [];
  closedWith: number | undefined;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;

  constructor(readonly token: string) {}

  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(code = 1000): void {
    this.closedWith = code;
    this.readyState = 3;
  }
  /** The server accepted the upgrade. */
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  /** The server sends a frame. */
  push(frame: Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  ready(): void {
    this.open();
    this.push({ type: 'ready', userId: 'me', sessionId: 's', heartbeatIntervalMs: 25_000 });
  }
  /** The server (or the network) closed the socket. */
  drop(code: number): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
  lastSent(type: string): Record<string, unknown> | undefined {
    return this.sent.filter((f) => f.type === type).at(-1);
  }
}

export function fakeSockets(): { factory: SocketFactory; sockets: FakeSocket[] } {
  const sockets: FakeSocket[] = [];
  return {
    sockets,
    factory: (_url, token) => {
      const socket = new FakeSocket(token);
      sockets.push(socket);
      return { socket, auth: 'frame' };
    },
  };
}

/** Lets pending promise callbacks run (mocked timers do not advance real microtasks). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
