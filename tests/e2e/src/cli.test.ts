import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { authenticatorCode, eventually, Platform, repoRoot } from '@im/testing';
import { PASSWORD, registerUsers } from './support/users.js';

const run = promisify(execFile);
const ACCOUNT_LOCK_AFTER = 3;
const IM = () => join(repoRoot(), 'libs/sdk/dist/src/cli/im.js');

/** The `im` CLI as a user runs it: separate processes, a session file per user. */
describe('im CLI', () => {
  let platform: Platform;
  const dirs: string[] = [];

  before(async () => {
    platform = await Platform.start({
      env: {
        // strangers' failures come "from" other addresses (X-Forwarded-For); the CLI from loopback
        gateway: { TRUSTED_PROXIES: '127.0.0.1' },
        auth: { LOGIN_MAX_FAILURES_PER_ACCOUNT_ALL_IPS: String(ACCOUNT_LOCK_AFTER) },
      },
    });
  });
  after(async () => {
    await platform?.stop();
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  async function profileDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'im-cli-'));
    dirs.push(dir);
    return dir;
  }

  async function im(configDir: string, args: string[], env: Record<string, string> = {}) {
    try {
      const { stdout, stderr } = await run(process.execPath, [IM(), ...args], {
        env: { ...process.env, IM_CONFIG_DIR: configDir, ...env },
      });
      return { code: 0, stdout, stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  }

  it('login, conversations, send seen live by tail, history, and --json for scripts', async () => {
    const [alice, bob] = await registerUsers(platform, 2, 'cli');
    const conv = await alice!.createConversation('direct', [bob!.user.id]);
    await alice!.sendMessage(conv.id, 'before-tail', 'before-tail');
    const [dirA, dirB] = [await profileDir(), await profileDir()];
    const url = ['--url', platform.gatewayUrl()];

    const login = await im(dirA, ['login', alice!.user.username, ...url, '--json'], {
      IM_PASSWORD: PASSWORD,
    });
    assert.equal(login.code, 0, login.stderr);
    assert.equal((JSON.parse(login.stdout) as { user: { id: string } }).user.id, alice!.user.id);
    assert.equal((await stat(join(dirA, 'session.json'))).mode & 0o777, 0o600, 'the session file is private');
    assert.equal((await im(dirB, ['login', bob!.user.username, ...url], { IM_PASSWORD: PASSWORD })).code, 0);

    const list = await im(dirA, ['conversations', '--json']);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(
      list.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { id: string }).id),
      [conv.id],
    );

    // Bob tails the conversation; Alice sends from another process; Bob's tail prints it
    const tail = spawn(process.execPath, [IM(), 'tail', conv.id, '--json'], {
      env: { ...process.env, IM_CONFIG_DIR: dirB },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    const status: string[] = [];
    createInterface({ input: tail.stdout }).on('line', (l) => lines.push(l));
    createInterface({ input: tail.stderr }).on('line', (l) => status.push(l));
    const exited = new Promise<number | null>((resolve) => tail.once('exit', (code) => resolve(code)));
    try {
      await eventually(() => assert.ok(status.includes('{"connection":"open"}'), status.join('\n')));
      const sent = await im(dirA, ['send', conv.id, 'hello', 'from', 'the', 'cli', '--json']);
      assert.equal(sent.code, 0, sent.stderr);
      const message = JSON.parse(sent.stdout) as { seq: number; text: string };
      assert.equal(message.text, 'hello from the cli');
      await eventually(() => assert.equal(lines.length, 1, lines.join('\n')));
      const tailed = JSON.parse(lines[0]!) as { seq: number; text: string; senderId: string };
      assert.deepEqual(
        [tailed.seq, tailed.text, tailed.senderId],
        [message.seq, message.text, alice!.user.id],
      );
    } finally {
      tail.kill('SIGINT');
    }
    assert.equal(await exited, 0, 'Ctrl-C ends tail cleanly');

    const history = await im(dirB, ['history', conv.id, '--limit', '10']);
    assert.equal(history.code, 0, history.stderr);
    assert.match(history.stdout, /#1 .*before-tail\n#2 .*hello from the cli\n$/);

    const photo = join(dirA, 'chart.png');
    await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3366cc' } })
      .png()
      .toFile(photo);
    const upload = await im(dirA, ['upload', conv.id, photo, '--text', 'the chart', '--json']);
    assert.equal(upload.code, 0, upload.stderr);
    const { message: withFile } = JSON.parse(upload.stdout) as {
      message: { seq: number; text: string; attachments: Array<{ contentType: string; width: number }> };
    };
    assert.deepEqual(
      [withFile.seq, withFile.text, withFile.attachments[0]?.contentType, withFile.attachments[0]?.width],
      [3, 'the chart', 'image/png', 64],
    );
  });

  it('clear errors: not logged in, a refused call (with the API code), bad usage, wrong password', async () => {
    const [carol] = await registerUsers(platform, 1, 'clierr');
    const dir = await profileDir();
    const notLoggedIn = await im(dir, ['conversations']);
    assert.equal(notLoggedIn.code, 1);
    assert.match(notLoggedIn.stderr, /unauthenticated: not logged in/);

    const badPassword = await im(dir, ['login', carol!.user.username, '--url', platform.gatewayUrl()], {
      IM_PASSWORD: 'wrong password here',
    });
    assert.equal(badPassword.code, 1);
    assert.match(badPassword.stderr, /invalid_credentials/);

    const login = await im(dir, ['login', carol!.user.username, '--url', platform.gatewayUrl()], {
      IM_PASSWORD: PASSWORD,
    });
    assert.equal(login.code, 0, login.stderr);
    const unknown = await im(dir, ['send', '0190c0de-0000-7000-8000-000000000000', 'hi']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /not_found/);
    const usage = await im(dir, ['send', 'only-one-arg']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /usage: im send/);
    assert.equal((await im(dir, ['frobnicate'])).code, 2);
    assert.equal((await im(dir, ['history', 'x', '--limit', 'lots'])).code, 2);

    assert.equal((await im(dir, ['logout'])).code, 0);
    assert.equal((await im(dir, ['whoami'])).code, 1);
  });

  it('keeps its device token across a logout: its next login passes a lock that strangers caused', async () => {
    const [dan] = await registerUsers(platform, 1, 'clidev');
    const [dir, elsewhere] = [await profileDir(), await profileDir()];
    const login = (d: string) =>
      im(d, ['login', dan!.user.username, '--url', platform.gatewayUrl()], { IM_PASSWORD: PASSWORD });
    assert.equal((await login(dir)).code, 0);
    assert.equal((await stat(join(dir, 'devices.json'))).mode & 0o777, 0o600, 'the device file is private');
    assert.equal((await im(dir, ['logout'])).code, 0);
    for (let i = 1; i <= ACCOUNT_LOCK_AFTER; i++) {
      const res = await fetch(`${platform.gatewayUrl()}/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': `198.51.100.${i}` },
        body: JSON.stringify({ username: dan!.user.username, password: 'a wrong guess' }),
      });
      assert.equal(res.status, 401);
    }
    const stranger = await login(elsewhere);
    assert.equal(stranger.code, 1);
    assert.match(stranger.stderr, /rate_limited/, 'a login without the device token waits');
    const known = await login(dir);
    assert.equal(known.code, 0, known.stderr);
    assert.equal((await login(dir)).code, 0, 'and hands out the next token, kept for the login after');
  });

  it('logs in with a second factor: --code or IM_MFA_CODE, and says so when it is missing', async () => {
    const [dave] = await registerUsers(platform, 1, 'climfa');
    const { secret } = await dave!.beginMfaEnrolment({ password: PASSWORD });
    const { recoveryCodes } = await dave!.confirmMfaEnrolment(authenticatorCode(secret));
    const dir = await profileDir();
    const args = ['login', dave!.user.username, '--url', platform.gatewayUrl()];
    const missing = await im(dir, args, { IM_PASSWORD: PASSWORD });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /mfa_required/);
    const wrong = await im(dir, [...args, '--code', 'aaaa-bbbb-cccc-dddd'], { IM_PASSWORD: PASSWORD });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /invalid_mfa_code/);
    const ok = await im(dir, args, { IM_PASSWORD: PASSWORD, IM_MFA_CODE: recoveryCodes[0]! });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((await im(dir, ['whoami'])).code, 0);
  });
});
