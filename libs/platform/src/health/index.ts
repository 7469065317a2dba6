import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

export interface ReadinessCheck {
  name: string;
  /** Resolves when the dependency answers; rejects (or times out) otherwise. */
  check(): Promise<void>;
}

export interface HealthServerOptions {
  port: number;
  host?: string;
  logger: Logger;
  checks: () => readonly ReadinessCheck[];
  metrics?: (req: IncomingMessage, res: ServerResponse) => void;
  checkTimeoutMs?: number;
}

interface CheckResult {
  name: string;
  ok: boolean;
  error?: string;
  ms: number;
}

/**
 * GET /healthz  200 while the process runs (liveness; never depends on other systems)
 * GET /readyz   200 when every dependency answers, else 503 with the failing ones; 503 while draining
 * GET /metrics  Prometheus text format
 */
export class HealthServer {
  private server: Server | undefined;
  private draining = false;
  private started = false;

  constructor(private readonly options: HealthServerOptions) {}

  /** Readiness stays 503 until the service says it has finished starting. */
  markStarted(): void {
    this.started = true;
  }

  markDraining(): void {
    this.draining = true;
  }

  async start(): Promise<number> {
    this.server = createServer((req, res) => void this.route(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.options.port, this.options.host ?? '0.0.0.0', () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server.closeAllConnections();
  }

  async readiness(): Promise<{ ready: boolean; checks: CheckResult[] }> {
    const timeout = this.options.checkTimeoutMs ?? 2_000;
    const checks = await Promise.all(
      this.options.checks().map(async (c): Promise<CheckResult> => {
        const t0 = performance.now();
        try {
          await withTimeout(c.check(), timeout, c.name);
          return { name: c.name, ok: true, ms: Math.round(performance.now() - t0) };
        } catch (err) {
          return {
            name: c.name,
            ok: false,
            error: (err as Error).message,
            ms: Math.round(performance.now() - t0),
          };
        }
      }),
    );
    return { ready: this.started && !this.draining && checks.every((c) => c.ok), checks };
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET')
      return json(res, 405, { error: { code: 'method_not_allowed', message: 'GET only' } });
    if (path === '/healthz') return json(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      const r = await this.readiness();
      const status = this.draining
        ? 'draining'
        : !this.started
          ? 'starting'
          : r.ready
            ? 'ready'
            : 'not_ready';
      return json(res, r.ready ? 200 : 503, { status, checks: r.checks });
    }
    if (path === '/metrics' && this.options.metrics) return this.options.metrics(req, res);
    return json(res, 404, { error: { code: 'not_found', message: `no route ${path}` } });
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
