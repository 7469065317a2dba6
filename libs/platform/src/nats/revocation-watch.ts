import type { Logger } from 'pino';
import { SessionRevoked } from '@im/proto/events/v1';
import { bindKv, type NatsConnection } from './index.js';

/** Reads the revocations kept elsewhere back, handing each page to `apply` as it comes. */
export type ReadBack = (apply: (page: readonly SessionRevoked[]) => void) => Promise<void>;

/**
 * Watches the revoked-sessions KV bucket auth writes: every live entry at start, then each new
 * one within milliseconds. The bucket appears when auth starts; until then, and after a NATS
 * outage, it keeps trying. One undecodable entry is skipped and logged (restarting the watch at it
 * would loop forever).
 *
 * With `reconcile` (the revocations auth kept in Cassandra), each time the watch starts, and each
 * time the connection comes back after an outage (the watch itself may carry on across it), it
 * also reads those back, retrying until they come: a revocation lands even when the bucket lost it
 * (NATS storage gone) or it expired from the watch's view while the watch was down. `watching`
 * turns true once the first read-back is done, so a new gateway takes no traffic before it knows
 * them.
 */
export class RevocationWatch {
  private stopped = false;
  private stopIter: (() => void) | undefined;
  private isWatching = false;
  private reconciled = false;
  private reconciling: Promise<void> | undefined;
  private readBackAgain = false;

  constructor(
    private readonly nats: NatsConnection,
    private readonly bucket: string,
    private readonly logger: Logger,
  ) {}

  get watching(): boolean {
    return this.isWatching && this.reconciled;
  }

  start(onRevoked: (ev: SessionRevoked) => void, reconcile?: ReadBack): void {
    this.reconciled = !reconcile;
    void this.loop(onRevoked, reconcile);
    if (reconcile) void this.readBackOnReconnect(onRevoked, reconcile);
  }

  /** Ends with the connection (or at the first status after stop()). */
  private async readBackOnReconnect(onRevoked: (ev: SessionRevoked) => void, reconcile: ReadBack) {
    for await (const status of this.nats.status()) {
      if (this.stopped) return;
      if (status.type !== 'reconnect') continue;
      // a read-back under way may have read before the outage's revocations: one more after it
      if (this.reconciling) this.readBackAgain = true;
      else this.reconciling = this.readBack(onRevoked, reconcile);
    }
  }

  stop(): void {
    this.stopped = true;
    this.stopIter?.();
  }

  private async loop(
    onRevoked: (ev: SessionRevoked) => void,
    reconcile: ReadBack | undefined,
  ): Promise<void> {
    while (!this.stopped) {
      try {
        const kv = await bindKv(this.nats, this.bucket);
        const iter = await kv.watch();
        this.stopIter = () => iter.stop();
        this.isWatching = true;
        // beside the watch, which must keep draining meanwhile
        if (reconcile) this.reconciling ??= this.readBack(onRevoked, reconcile);
        for await (const entry of iter) {
          if (entry.operation !== 'PUT') continue;
          const ev = decodeRevocation(entry.value);
          if (ev) onRevoked(ev);
          else this.logger.warn({ key: entry.key }, 'undecodable revocation entry skipped');
        }
      } catch (err) {
        if (!this.stopped) this.logger.debug({ err }, 'revocation watch not available yet');
      }
      this.isWatching = false;
      if (!this.stopped) await new Promise((r) => setTimeout(r, 1_000));
    }
  }

  /** Reads the kept revocations back, retrying (1 s, doubling to 30 s) until they come or the watch stops. */
  private async readBack(onRevoked: (ev: SessionRevoked) => void, reconcile: ReadBack): Promise<void> {
    do {
      this.readBackAgain = false;
      await this.readBackOnce(onRevoked, reconcile);
    } while (this.readBackAgain && !this.stopped);
    this.reconciling = undefined;
  }

  private async readBackOnce(onRevoked: (ev: SessionRevoked) => void, reconcile: ReadBack): Promise<void> {
    for (let wait = 1_000; !this.stopped; wait = Math.min(wait * 2, 30_000)) {
      try {
        let count = 0;
        // each page lands as it comes: a retry after a failed page loses nothing already applied
        await reconcile((page) => {
          for (const ev of page) if (ev.sessionId) onRevoked(ev);
          count += page.length;
        });
        this.reconciled = true;
        this.logger.debug({ revocations: count }, 'revocations read back');
        break;
      } catch (err) {
        this.logger.warn({ err }, 'revocations not read back yet: retrying');
        await new Promise((r) => setTimeout(r, wait).unref());
      }
    }
  }
}

function decodeRevocation(value: Uint8Array): SessionRevoked | undefined {
  try {
    const ev = SessionRevoked.decode(value);
    return ev.sessionId ? ev : undefined;
  } catch {
    return undefined;
  }
}
