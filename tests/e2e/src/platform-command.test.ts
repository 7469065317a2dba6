import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { ApiError, ImClient } from '@im/sdk';
import { freePort, infraEnvFromProcess, newRunPrefix, repoRoot } from '@im/testing';

// The README's first command, as a newcomer runs it (here on spare ports, against the run's infrastructure).
describe('deploy/local/platform.sh', () => {
  it('brings all six services up, each /readyz answers 200, and Ctrl-C stops them all', async () => {
    const names = [
      'IM_GATEWAY_PORT',
      'IM_AUTH_GRPC_PORT',
      'IM_MESSAGE_GRPC_PORT',
      'IM_PRESENCE_GRPC_PORT',
      'IM_MEDIA_GRPC_PORT',
      'IM_NOTIFICATION_GRPC_PORT',
      'IM_GATEWAY_HTTP_PORT',
      'IM_AUTH_HTTP_PORT',
      'IM_MESSAGE_HTTP_PORT',
      'IM_PRESENCE_HTTP_PORT',
      'IM_MEDIA_HTTP_PORT',
      'IM_NOTIFICATION_HTTP_PORT',
    ] as const;
    const ports: Record<string, number> = {};
    for (const name of names) ports[name] = await freePort();
    const healthPorts = names.filter((n) => n.endsWith('_HTTP_PORT')).map((n) => ports[n]!);
    const child = spawn('bash', [join(repoRoot(), 'deploy/local/platform.sh')], {
      cwd: repoRoot(),
      env: {
        ...process.env,
        ...infraEnvFromProcess(),
        ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
        IM_NAME_PREFIX: newRunPrefix('plat'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    createInterface({ input: child.stderr }).on('line', (l) => output.push(l));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const ready = new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (l) => {
        output.push(l);
        if (l.trim() === 'platform ready') resolve();
      });
      void exited.then((code) =>
        reject(new Error(`platform.sh exited (${code}) before ready:\n${output.slice(-30).join('\n')}`)),
      );
    });
    try {
      await ready;
      const text = output.join('\n');
      assert.match(
        text,
        new RegExp(`ws://127\\.0\\.0\\.1:${ports.IM_GATEWAY_PORT}/v1/ws`),
        'prints where to connect',
      );
      assert.match(text, new RegExp(`Web client +http://127\\.0\\.0\\.1:${ports.IM_GATEWAY_PORT}/`));
      const app = await fetch(`http://127.0.0.1:${ports.IM_GATEWAY_PORT}/`);
      assert.equal(app.status, 200, 'the web client is served');
      assert.match(await app.text(), /<div id="app">/);
      // a newcomer registers into the default tenant; naming another tenant creates nothing
      const gateway = `http://127.0.0.1:${ports.IM_GATEWAY_PORT}`;
      const name = `newcomer-${Date.now().toString(36)}`;
      const newcomer = await new ImClient(gateway).register(name, 'correct horse battery');
      assert.equal(newcomer.user.username, name, 'the default tenant is open');
      await assert.rejects(
        new ImClient(gateway, `elsewhere-${Date.now().toString(36)}`).register(name, 'correct horse battery'),
        (err: ApiError) => err.code === 'invite_required',
        'no tenant is made by registering into it',
      );
      for (const port of healthPorts) {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`);
        const body = (await res.json()) as { status: string; checks: Array<{ name: string; ok: boolean }> };
        assert.equal(res.status, 200, `readyz on ${port}: ${JSON.stringify(body)}`);
        assert.equal(body.status, 'ready');
        assert.ok(body.checks.length > 0 && body.checks.every((c) => c.ok));
      }
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0, 'Ctrl-C ends the command cleanly');
    for (const port of healthPorts) {
      await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`), `nothing listens on ${port} any more`);
    }
  });
});
