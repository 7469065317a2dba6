import type { WebSocket } from 'ws';
import type { AnyServerFrame } from '@im/proto/client/v1';
import type { TokenBucket } from '@im/platform/rate-limit';
import type { Principal } from '../auth/token-verifier.js';
import { serverFrameJson } from '../live/server-frames.js';
import { CloseCode } from './close-codes.js';

let nextId = 1;

/**
 * One authenticated socket. Kept small on purpose: idle sockets are most of a gateway's memory.
 * send() enforces the outbound bound: a socket whose queue exceeds maxBuffered when another frame
 * is due is closed with 4408.
 */
export class Connection {
  readonly id = nextId++;
  readonly connectedAt = Date.now();
  lastSeen = Date.now();
  pending = 0;
  /** Time of the last auth.refresh (rate limit). */
  lastRenewedAt = 0;
  /** Users whose presence frames this socket asked for (presence.subscribe). */
  presenceOf: Set<string> | undefined;
  /** presence.subscribe rate (made on the first one: most sockets never send it). */
  presenceSubscribes: TokenBucket | undefined;

  constructor(
    readonly ws: WebSocket,
    /** Replaced by a fresher one of the same session (auth.refresh). */
    public principal: Principal,
    private readonly maxBuffered: number,
  ) {}

  get userId(): string {
    return this.principal.userId;
  }

  get sessionId(): string {
    return this.principal.sessionId;
  }

  /** Sends a serialized frame; false when the socket is gone or was just closed as too slow. */
  send(json: string): boolean {
    if (this.ws.readyState !== this.ws.OPEN) return false;
    // the bound is on what is already queued: one frame larger than it still goes to an idle socket
    if (this.ws.bufferedAmount > this.maxBuffered) {
      this.close(CloseCode.slowConsumer, 'slow consumer: reconnect and sync');
      return false;
    }
    this.ws.send(json);
    return true;
  }

  sendFrame(frame: AnyServerFrame): boolean {
    return this.send(serverFrameJson(frame));
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING)
      this.ws.close(code, reason);
  }
}
