import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './eventually.js';
import { freePort } from './ports.js';

/** The EICAR anti-virus test file: harmless, recognised by every scanner that has its signature. */
export const EICAR = Buffer.from('X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*');
export const CLAMD_BINARY = process.env.CLAMD_PATH ?? '/usr/sbin/clamd';

/**
 * A real ClamAV daemon (Debian's clamav-daemon) on a loopback port. Its signature database is
 * made here, not downloaded (freshclam's mirrors are out of reach): one hash signature for EICAR.
 * stop() and start() again keep the port, for tests of a scanner that goes away.
 */
export class Clamd {
  private child: ChildProcess | undefined;
  private constructor(
    private readonly dir: string,
    readonly port: number,
  ) {}

  /** streamMaxLength: the largest file clamd takes (its StreamMaxLength, e.g. "1M"). */
  static async start({ streamMaxLength = '200M' } = {}): Promise<Clamd> {
    if (!existsSync(CLAMD_BINARY)) throw new Error(`${CLAMD_BINARY} missing: install clamav-daemon`);
    const dir = mkdtempSync(join(tmpdir(), 'im-clamd-'));
    const md5 = createHash('md5').update(EICAR).digest('hex');
    writeFileSync(join(dir, 'im-test.hdb'), `${md5}:${EICAR.length}:Im-Test-Eicar\n`);
    const clamd = new Clamd(dir, await freePort());
    writeFileSync(
      join(dir, 'clamd.conf'),
      [
        'Foreground yes',
        `TCPSocket ${clamd.port}`,
        'TCPAddr 127.0.0.1',
        `DatabaseDirectory ${dir}`,
        `LogFile ${join(dir, 'clamd.log')}`,
        `StreamMaxLength ${streamMaxLength}`,
        '',
      ].join('\n'),
    );
    await clamd.resume();
    return clamd;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Starts the daemon (again) and waits until it answers PING. */
  async resume(): Promise<void> {
    this.child = spawn(CLAMD_BINARY, ['-c', join(this.dir, 'clamd.conf')], { stdio: 'ignore' });
    await eventually(() => this.ping(), { what: 'clamd answering PING', timeoutMs: 60_000 });
  }

  /** Stops the daemon; the port stays reserved for resume(). */
  async halt(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  async stop(): Promise<void> {
    await this.halt();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private ping(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.port, '127.0.0.1', () => socket.end('zPING\0'));
      let answer = '';
      socket.on('data', (d) => (answer += d.toString()));
      socket.on('close', () =>
        answer.startsWith('PONG') ? resolve() : reject(new Error(`answered ${answer}`)),
      );
      socket.on('error', reject);
    });
  }
}
