import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Session } from '../client.js';

/** What `im login` keeps: where the gateway is and the session (tokens), readable by the user only. */
export interface Profile {
  url: string;
  tenant?: string;
  session: Session;
}

function dir(): string {
  return process.env.IM_CONFIG_DIR ?? join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'im');
}

export async function loadProfile(): Promise<Profile | undefined> {
  try {
    return JSON.parse(await readFile(join(dir(), 'session.json'), 'utf8')) as Profile;
  } catch {
    return undefined;
  }
}

export async function saveProfile(profile: Profile): Promise<void> {
  await writePrivate('session.json', profile);
}

/** Write-then-rename, mode 600: a concurrent reader sees the old file or the new one, never half of one. */
async function writePrivate(name: string, value: unknown): Promise<void> {
  await mkdir(dir(), { recursive: true, mode: 0o700 });
  const tmp = join(dir(), `${name}.${process.pid}.tmp`);
  await writeFile(tmp, JSON.stringify(value, null, 2), { mode: 0o600 });
  await rename(tmp, join(dir(), name));
}

export async function clearProfile(): Promise<void> {
  await rm(join(dir(), 'session.json'), { force: true });
}

/**
 * Device tokens by gateway, tenant and username, kept across logouts (unlike the session): a login
 * that presents its device's token is not held back when strangers' failures lock the account.
 */
type DeviceTokens = Record<string, string>;
const deviceKey = (url: string, tenant: string | undefined, username: string) =>
  JSON.stringify([url, ...[tenant ?? '', username].map((s) => s.normalize('NFKC').trim().toLowerCase())]);

async function loadDeviceTokens(): Promise<DeviceTokens> {
  try {
    const tokens: unknown = JSON.parse(await readFile(join(dir(), 'devices.json'), 'utf8'));
    return tokens && typeof tokens === 'object' ? (tokens as DeviceTokens) : {};
  } catch {
    return {};
  }
}

export async function loadDeviceToken(url: string, tenant: string | undefined, username: string) {
  const token = (await loadDeviceTokens())[deviceKey(url, tenant, username)];
  return typeof token === 'string' ? token : undefined;
}

export async function saveDeviceToken(
  url: string,
  tenant: string | undefined,
  username: string,
  token: string,
): Promise<void> {
  const tokens = { ...(await loadDeviceTokens()), [deviceKey(url, tenant, username)]: token };
  await writePrivate('devices.json', tokens);
}

/** IM_PASSWORD, else a prompt that does not echo (a terminal), else the first line of stdin (a pipe). */
export async function readPassword(): Promise<string> {
  if (process.env.IM_PASSWORD) return process.env.IM_PASSWORD;
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    let text = '';
    for await (const chunk of stdin) text += String(chunk);
    return text.split('\n')[0] ?? '';
  }
  process.stderr.write('Password: ');
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  let password = '';
  try {
    for await (const chunk of stdin) {
      for (const ch of String(chunk)) {
        if (ch === '\r' || ch === '\n') return password;
        if (ch === '\u0003') throw new Error('cancelled');
        if (ch === '\u007f') password = password.slice(0, -1);
        else password += ch;
      }
    }
    return password;
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
}
