import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from './paths.js';
import { freePort } from './ports.js';
import { testGrpcTlsDir } from './internal-identities.js';

export type ServiceName = 'gateway' | 'auth' | 'presence' | 'message' | 'media' | 'notification';

export interface LogLine {
  level?: string;
  msg?: string;
  [key: string]: unknown;
}

export interface StartServiceOptions {
  env: Record<string, string>;
  /** Distinguishes several processes of one service in log file names. */
  label?: string;
  readyTimeoutMs?: number;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A service running as its own process (node dist/src/main.js), exactly as in production.
 * Its JSON log lines are kept in memory for assertions and written to .run/test-logs/.
 */
export class ServiceProcess {
  readonly logs: LogLine[] = [];
  readonly stderr: string[] = [];
  ports: Record<string, number> = {};
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | undefined;
  private readonly listeners = new Set<(line: LogLine) => void>();

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    private readonly logFile: WriteStream,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
    createInterface({ input: child.stdout! }).on('line', (raw) => {
      logFile.write(`${raw}\n`);
      let line: LogLine;
      try {
        line = JSON.parse(raw) as LogLine;
      } catch {
        line = { msg: raw };
      }
      this.logs.push(line);
      for (const l of this.listeners) l(line);
    });
    createInterface({ input: child.stderr! }).on('line', (raw) => {
      logFile.write(`[stderr] ${raw}\n`);
      this.stderr.push(raw);
      // config errors and crashes before the logger exists arrive here as JSON too
      try {
        const line = JSON.parse(raw) as LogLine;
        this.logs.push(line);
        for (const l of this.listeners) l(line);
      } catch {
        /* plain stderr text */
      }
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** Starts the service without waiting for it (for tests that expect it to fail). */
  static spawn(name: ServiceName, options: StartServiceOptions): ServiceProcess {
    const root = repoRoot();
    const dir = join(process.env.IM_RUN_DIR ?? join(root, '.run'), 'test-logs');
    mkdirSync(dir, { recursive: true });
    const label = options.label ? `-${options.label}` : '';
    const logFile = createWriteStream(
      join(dir, `${options.env.IM_NAME_PREFIX ?? 'np'}-${name}${label}.log`),
      { flags: 'a' },
    );
    const child = spawn(
      process.execPath,
      ['--enable-source-maps', join(root, 'services', name, 'dist/src/main.js')],
      {
        cwd: root,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/tmp',
          HTTP_PORT: '0',
          GRPC_PORT: '0',
          // services authenticate each other as in production (mutual TLS, one test CA per run)
          GRPC_TLS_DIR: testGrpcTlsDir(name),
          ...options.env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    return new ServiceProcess(name, child, logFile);
  }

  /** Starts the service and waits for its "<name> ready" line, which carries its ports. */
  static async start(name: ServiceName, options: StartServiceOptions): Promise<ServiceProcess> {
    // ports known to be free and outside the ephemeral range, so a restart can rebind them
    const ports: Record<string, string> = {
      HTTP_PORT: String(await freePort()),
      GRPC_PORT: String(await freePort()),
    };
    if (name === 'gateway') ports.PUBLIC_PORT = String(await freePort());
    const proc = ServiceProcess.spawn(name, { ...options, env: { ...ports, ...options.env } });
    // a process that never got ready is nobody's to stop: it goes here, not on as an orphan
    const ready = await proc
      .waitForLog((l) => l.msg === `${name} ready`, options.readyTimeoutMs ?? 60_000)
      .catch(async (err: unknown) => {
        await proc.kill();
        throw err;
      });
    proc.ports = Object.fromEntries(
      Object.entries(ready).filter(([k, v]) => k.endsWith('Port') && typeof v === 'number'),
    ) as Record<string, number>;
    return proc;
  }

  address(port: 'grpcPort' | 'httpPort' | 'publicPort' = 'grpcPort'): string {
    const p = this.ports[port];
    if (p === undefined) throw new Error(`${this.name} has no ${port}`);
    return `127.0.0.1:${p}`;
  }

  /** Resolves with the first log line (past or future) that matches; rejects on exit or timeout. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> {
    const seen = this.logs.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const listener = (line: LogLine) => {
        if (match(line)) {
          done();
          resolve(line);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `${this.name}: expected log line not seen within ${timeoutMs} ms; last lines:\n${this.tail()}`,
          ),
        );
      }, timeoutMs);
      this.listeners.add(listener);
      void this.exited.then((info) => {
        if (!this.listeners.has(listener)) return;
        done();
        reject(
          new Error(
            `${this.name} exited (code ${info.code}, signal ${info.signal}) before the expected log line:\n${this.tail()}`,
          ),
        );
      });
    });
  }

  tail(n = 15): string {
    const lines = this.logs.slice(-n).map((l) => JSON.stringify(l));
    const err = this.stderr.filter((l) => !l.startsWith('{')).slice(-5);
    return [...lines, ...err].join('\n');
  }

  /** SIGTERM and wait for a clean exit (or SIGKILL after timeoutMs). */
  async stop(timeoutMs = 20_000): Promise<ExitInfo> {
    if (!this.running) return this.exitInfo!;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const info = await this.exited;
    clearTimeout(timer);
    this.logFile.end();
    return info;
  }

  /** SIGSTOP: the process freezes (as in a long GC pause) and keeps its sockets. */
  freeze(): void {
    this.child.kill('SIGSTOP');
  }

  /** SIGCONT: a frozen process carries on where it stopped. */
  thaw(): void {
    this.child.kill('SIGCONT');
  }

  /** kill -9: no shutdown hooks, no drain. */
  async kill(): Promise<ExitInfo> {
    if (!this.running) return this.exitInfo!;
    this.child.kill('SIGKILL');
    const info = await this.exited;
    this.logFile.end();
    return info;
  }
}
