import { randomBytes } from 'node:crypto';
import { ImClient } from '@im/sdk';

/** Runs `fn` over items with at most `concurrency` in flight. */
export async function pool<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

/** Registers `n` users with unique names (tenant "load-<run>"), 16 at a time. */
export async function registerUsers(gatewayUrl: string, n: number, runId: string): Promise<ImClient[]> {
  return pool(Array.from({ length: n }), 16, async (_, i) => {
    const c = new ImClient(gatewayUrl, `load-${runId}`);
    await c.register(`u${i}-${randomBytes(3).toString('hex')}`, 'load-password-1');
    return c;
  });
}
