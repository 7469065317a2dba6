import { generateKeyPairSync, randomUUID, verify, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FcmMessage {
  token: string;
  /** When this server took it (set here, not sent by the client). */
  at?: number;
  data: Record<string, string>;
  notification?: { title: string; body: string };
  android: { collapse_key: string; priority: string; ttl: string };
}

type Answer = { status: number; errorCode?: string; retryAfter?: string };

/**
 * A local FCM: an OAuth2 token endpoint that checks the service account's signed JWT assertion
 * (RS256, the firebase.messaging scope), and the HTTP v1 messages:send endpoint that checks the
 * bearer token it issued and the message, answering 200 or what a test set per registration token
 * (404 UNREGISTERED, 429 with Retry-After, 503).
 */
export class LocalFcm {
  readonly projectId = 'im-test-project';
  readonly clientEmail = 'push@im-test-project.iam.gserviceaccount.com';
  readonly privateKeyPem: string;
  readonly received: FcmMessage[] = [];
  readonly refused: Array<{ token: string; status: number; at: number }> = [];
  tokensIssued = 0;
  private readonly publicKey: KeyObject;
  private readonly accessTokens = new Set<string>();
  private readonly answers = new Map<string, { answer: Answer; until: number; times?: number }>();
  private server: Server | undefined;
  base = '';

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    this.publicKey = publicKey;
  }

  /** The service-account JSON a Firebase console hands out, pointing at this server. */
  serviceAccount(): Record<string, string> {
    return {
      type: 'service_account',
      project_id: this.projectId,
      client_email: this.clientEmail,
      private_key: this.privateKeyPem,
      token_uri: `${this.base}/token`,
    };
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
          res
            .writeHead(status, { 'content-type': 'application/json', ...headers })
            .end(JSON.stringify(value));
        };
        if (req.method === 'POST' && req.url === '/token') {
          const form = new URLSearchParams(body);
          if (
            form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer' ||
            !this.validAssertion(form.get('assertion') ?? '')
          )
            return json(400, { error: 'invalid_grant' });
          const token = randomUUID();
          this.accessTokens.add(token);
          this.tokensIssued++;
          return json(200, { access_token: token, expires_in: 3600, token_type: 'Bearer' });
        }
        if (req.method === 'POST' && req.url === `/v1/projects/${this.projectId}/messages:send`) {
          const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
          if (!this.accessTokens.has(bearer))
            return json(401, { error: { code: 401, status: 'UNAUTHENTICATED' } });
          const { message } = JSON.parse(body) as { message: FcmMessage };
          const set = this.answers.get(message.token);
          if (set && set.until > Date.now() && (set.times === undefined || set.times-- > 0)) {
            this.refused.push({ token: message.token, status: set.answer.status, at: Date.now() });
            return json(
              set.answer.status,
              {
                error: {
                  code: set.answer.status,
                  status: set.answer.errorCode === 'UNREGISTERED' ? 'NOT_FOUND' : 'UNAVAILABLE',
                  details: set.answer.errorCode
                    ? [
                        {
                          '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError',
                          errorCode: set.answer.errorCode,
                        },
                      ]
                    : [],
                },
              },
              set.answer.retryAfter ? { 'retry-after': set.answer.retryAfter } : {},
            );
          }
          if (!message.token || typeof message.data !== 'object' || !message.android?.collapse_key)
            return json(400, { error: { code: 400, status: 'INVALID_ARGUMENT' } });
          this.received.push({ ...message, at: Date.now() });
          return json(200, { name: `projects/${this.projectId}/messages/${randomUUID()}` });
        }
        json(404, {});
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.base;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }

  /** Every access token issued so far stops working (answers 401), as when Google revokes them. */
  revokeAccessTokens(): void {
    this.accessTokens.clear();
  }

  answer(token: string, answer: Answer, forMs = 3_600_000): void {
    this.answers.set(token, { answer, until: Date.now() + forMs });
  }

  /** Answers the next `times` requests for the token so, then 200 again. */
  answerNext(token: string, answer: Answer, times: number): void {
    this.answers.set(token, { answer, until: Number.POSITIVE_INFINITY, times });
  }

  to(token: string): FcmMessage[] {
    return this.received.filter((m) => m.token === token);
  }

  private validAssertion(jwt: string): boolean {
    const [h, c, sig] = jwt.split('.');
    if (!h || !c || !sig) return false;
    const claims = JSON.parse(Buffer.from(c, 'base64url').toString()) as {
      iss?: string;
      scope?: string;
      aud?: string;
    };
    const signed = verify('sha256', Buffer.from(`${h}.${c}`), this.publicKey, Buffer.from(sig, 'base64url'));
    return signed && claims.iss === this.clientEmail && (claims.scope ?? '').includes('firebase.messaging');
  }
}
