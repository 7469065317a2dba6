import type { AnyServerFrame, ServerFrameOf } from '@im/proto/client/v1';
import { ApiError } from './errors.js';

type AckFrame = ServerFrameOf<'ack'>;

/** Requests sent on a socket and waiting for the ack or error frame with their id. */
export class PendingRequests {
  private readonly waiting = new Map<
    string,
    { resolve(f: AckFrame): void; reject(e: Error): void; timer: ReturnType<typeof setTimeout> }
  >();

  /** Registers `id`; the promise rejects with `timeout` when nothing answers within timeoutMs. */
  add(id: string, type: string, timeoutMs: number): Promise<AckFrame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new ApiError('timeout', `no answer to ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
    });
  }

  /** Settles the request a frame answers; false when the frame answers none. */
  settle(frame: AnyServerFrame): boolean {
    if ((frame.type !== 'ack' && frame.type !== 'error') || frame.id === undefined) return false;
    const p = this.waiting.get(frame.id);
    if (!p) return false;
    this.waiting.delete(frame.id);
    clearTimeout(p.timer);
    if (frame.type === 'ack') p.resolve(frame);
    else p.reject(new ApiError(frame.code, frame.message, 0, frame.retryAfterMs));
    return true;
  }

  /** Rejects every waiting request (the socket closed before they were answered). */
  failAll(error: ApiError): void {
    for (const p of this.waiting.values()) {
      clearTimeout(p.timer);
      p.reject(error);
    }
    this.waiting.clear();
  }
}
