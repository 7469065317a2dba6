import { createECDH, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import ece from 'http_ece';

export interface ReceivedPush {
  subscriptionId: string;
  headers: IncomingHttpHeaders;
  /** The decrypted payload (aes128gcm with the subscription's private key), parsed as JSON. */
  payload: Record<string, unknown>;
  at: number;
}

interface Subscription {
  id: string;
  ecdh: ReturnType<typeof createECDH>;
  auth: Buffer;
  /** What to answer instead of 201, and until when. */
  failure?: { status: number; until: number; retryAfter?: string };
}

/**
 * A local Web Push service (RFC 8030) on loopback: it hands out subscriptions as a browser's push
 * service would (a P-256 key pair and an auth secret per subscription), receives the encrypted
 * pushes, checks the VAPID authorization is present, decrypts each with the subscription's private
 * key, and can be told to answer 410 or 503 for a subscription.
 */
export class LocalPushService {
  readonly received: ReceivedPush[] = [];
  readonly refused: Array<{ subscriptionId: string; status: number }> = [];
  readonly undecryptable: Array<{ subscriptionId: string; error: string }> = [];
  /** Pushes accepted, decrypted or not (see decryptEvery). */
  accepted = 0;
  private readonly subscriptions = new Map<string, Subscription>();
  private server: Server | undefined;
  private base = '';

  /**
   * decryptEvery: decrypt and keep 1 push in n (a benchmark measures a sample and counts the
   * rest; decrypting costs an ECDH per push on the machine under test).
   */
  constructor(private readonly decryptEvery = 1) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const id = (req.url ?? '').split('/').pop() ?? '';
        const sub = this.subscriptions.get(id);
        if (!sub) return void res.writeHead(404).end();
        const auth = req.headers.authorization ?? '';
        if (!/^vapid t=[\w-]+\.[\w-]+\.[\w-]+, k=[\w-]+$/.test(auth)) return void res.writeHead(401).end();
        if (sub.failure && sub.failure.until > Date.now()) {
          this.refused.push({ subscriptionId: id, status: sub.failure.status });
          const headers = sub.failure.retryAfter ? { 'retry-after': sub.failure.retryAfter } : undefined;
          return void res.writeHead(sub.failure.status, headers).end();
        }
        if (this.accepted++ % this.decryptEvery !== 0) return void res.writeHead(201).end();
        let payload: Record<string, unknown>;
        try {
          const plain = ece.decrypt(Buffer.concat(chunks), {
            version: 'aes128gcm',
            privateKey: sub.ecdh,
            authSecret: sub.auth.toString('base64url'),
          });
          payload = JSON.parse(plain.toString('utf8')) as Record<string, unknown>;
        } catch (err) {
          // a push we cannot read fails the test that waits for it (never the test process)
          this.undecryptable.push({ subscriptionId: id, error: String(err) });
          return void res.writeHead(400).end();
        }
        this.received.push({ subscriptionId: id, headers: req.headers, payload, at: Date.now() });
        res.writeHead(201).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }

  /** A new subscription, shaped like PushSubscription.toJSON(). */
  subscribe(): { id: string; endpoint: string; keys: { p256dh: string; auth: string } } {
    const id = randomUUID();
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const auth = randomBytes(16);
    this.subscriptions.set(id, { id, ecdh, auth });
    return {
      id,
      endpoint: `${this.base}/push/${id}`,
      keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
    };
  }

  failFor(subscriptionId: string, status: number, ms: number, retryAfter?: string): void {
    const sub = this.subscriptions.get(subscriptionId)!;
    sub.failure = { status, until: Date.now() + ms, ...(retryAfter ? { retryAfter } : {}) };
  }

  pushesTo(subscriptionId: string): ReceivedPush[] {
    return this.received.filter((p) => p.subscriptionId === subscriptionId);
  }
}
