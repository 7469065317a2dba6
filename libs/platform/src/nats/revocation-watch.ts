import type { Logger } from 'pino';
import { SessionRevoked } from '@im/proto/events/v1';
import { bindKv, type NatsConnection } from './index.js';

/**
 * Watches the revoked-sessions KV bucket auth writes: every live entry at start, then each new
 * one within milliseconds. The bucket appears when auth starts; until then, and after a NATS
 * outage, it keeps trying. One undecodable entry is skipped and logged (restarting the watch at it
 * would loop forever).
 */
export class RevocationWatch {
  private stopped = false;
  private stopIter: (() => void) | undefined;
  private isWatching = false;

  constructor(
    private readonly nats: NatsConnection,
    private readonly bucket: string,
    private readonly logger: Logger,
  ) {}

  get watching(): boolean {
    return this.isWatching;
  }

  start(onRevoked: (ev: SessionRevoked) => void): void {
    void this.loop(onRevoked);
  }

  stop(): void {
    this.stopped = true;
    this.stopIter?.();
  }

  private async loop(onRevoked: (ev: SessionRevoked) => void): Promise<void> {
    while (!this.stopped) {
      try {
        const kv = await bindKv(this.nats, this.bucket);
        const iter = await kv.watch();
        this.stopIter = () => iter.stop();
        this.isWatching = true;
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
}

function decodeRevocation(value: Uint8Array): SessionRevoked | undefined {
  try {
    const ev = SessionRevoked.decode(value);
    return ev.sessionId ? ev : undefined;
  } catch {
    return undefined;
  }
}
