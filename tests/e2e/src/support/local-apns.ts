import { generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { createSecureServer, type Http2SecureServer, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';

export interface ApnsRequest {
  token: string;
  headers: IncomingHttpHeaders;
  payload: { aps: Record<string, unknown> } & Record<string, unknown>;
}

type Answer = { status: number; reason?: string };

/**
 * A local APNs (HTTP/2 over TLS, self-signed): checks the provider JWT (ES256, signed with the
 * team's .p8 key, kid and iss right), apns-topic, apns-push-type and apns-collapse-id, and answers
 * 200, or what a test set per device token (400 BadDeviceToken, 410 Unregistered, 429).
 */
export class LocalApns {
  readonly teamId = 'TEAM123456';
  readonly keyId = 'KEY1234567';
  readonly topic = 'com.example.im';
  /** The .p8 file's content (PKCS#8 PEM of a P-256 key), as Apple hands it out. */
  readonly p8: string;
  readonly received: ApnsRequest[] = [];
  readonly refused: Array<{ token: string; status: number; reason: string }> = [];
  caPem = '';
  private readonly publicKey: KeyObject;
  private readonly answers = new Map<string, { answer: Answer; until: number; times?: number }>();
  private server: Http2SecureServer | undefined;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.p8 = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    this.publicKey = publicKey;
  }

  async start(): Promise<string> {
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      keySize: 2048,
      algorithm: 'sha256',
      extensions: [
        {
          name: 'subjectAltName',
          altNames: [
            { type: 7, ip: '127.0.0.1' },
            { type: 2, value: 'localhost' },
          ],
        },
      ],
    });
    this.caPem = pems.cert;
    this.server = createSecureServer({ key: pems.private, cert: pems.cert, allowHTTP1: false });
    this.server.on('stream', (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const token = String(headers[':path'] ?? '').replace('/3/device/', '');
        const reply = (status: number, reason?: string) => {
          if (status !== 200) this.refused.push({ token, status, reason: reason ?? '' });
          stream.respond({ ':status': status, 'content-type': 'application/json' });
          stream.end(reason ? JSON.stringify({ reason }) : undefined);
        };
        if (!this.validJwt(String(headers.authorization ?? ''))) return reply(403, 'InvalidProviderToken');
        if (headers['apns-topic'] !== this.topic) return reply(400, 'BadTopic');
        if (!['alert', 'background'].includes(String(headers['apns-push-type'])))
          return reply(400, 'InvalidPushType');
        if (!headers['apns-collapse-id']) return reply(400, 'MissingCollapseId');
        const set = this.answers.get(token);
        if (set && set.until > Date.now() && (set.times === undefined || set.times-- > 0))
          return reply(set.answer.status, set.answer.reason);
        this.received.push({ token, headers, payload: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        reply(200);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }

  answer(token: string, status: number, reason: string, forMs = 3_600_000): void {
    this.answers.set(token, { answer: { status, reason }, until: Date.now() + forMs });
  }

  /** Answers the next `times` requests for the token so, then 200 again. */
  answerNext(token: string, status: number, reason: string, times: number): void {
    this.answers.set(token, { answer: { status, reason }, until: Number.POSITIVE_INFINITY, times });
  }

  to(token: string): ApnsRequest[] {
    return this.received.filter((r) => r.token === token);
  }

  private validJwt(authorization: string): boolean {
    const m = /^bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(authorization);
    if (!m) return false;
    const header = JSON.parse(Buffer.from(m[1]!, 'base64url').toString()) as { alg?: string; kid?: string };
    const claims = JSON.parse(Buffer.from(m[2]!, 'base64url').toString()) as { iss?: string; iat?: number };
    const signed = verify(
      'sha256',
      Buffer.from(`${m[1]}.${m[2]}`),
      { key: this.publicKey, dsaEncoding: 'ieee-p1363' },
      Buffer.from(m[3]!, 'base64url'),
    );
    const fresh = typeof claims.iat === 'number' && Math.abs(Date.now() / 1000 - claims.iat) < 3_600;
    return (
      signed && header.alg === 'ES256' && header.kid === this.keyId && claims.iss === this.teamId && fresh
    );
  }
}
