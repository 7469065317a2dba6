import { randomBytes } from 'node:crypto';
import { ImClient, type ImSocket } from '@im/sdk';
import type { Platform } from '@im/testing';

export const PASSWORD = 'correct horse battery';

/** A fresh, unique username (usernames are per tenant and tests share the default tenant). */
export function username(label: string): string {
  return `${label.toLowerCase().replace(/[^a-z0-9]/g, '')}-${randomBytes(4).toString('hex')}`;
}

/** Registers n users on gateway `gw` (of one tenant) and returns logged-in clients. */
export async function registerUsers(
  platform: Platform,
  n: number,
  label = 'user',
  tenant?: string,
  gw = 0,
): Promise<ImClient[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const c = new ImClient(platform.gatewayUrl(gw), tenant);
      await c.register(username(`${label}${i}`), PASSWORD);
      return c;
    }),
  );
}

export async function closeAll(sockets: Iterable<ImSocket>): Promise<void> {
  await Promise.all([...sockets].map((s) => s.close()));
}
