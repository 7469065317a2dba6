import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { ProviderError } from './push-provider.js';

/**
 * POSTs to a URL someone else chose (a Web Push endpoint, a webhook) through a lookup that
 * refuses private addresses, with an idle timeout and a deadline for the whole exchange (a
 * server trickling bytes holds nothing for long). Any status resolves; the network failing, or
 * the name resolving inside, rejects with a ProviderError (retryable unless blocked).
 */
export function guardedPost(
  target: string,
  headers: Record<string, string | number>,
  body: Buffer | string | null,
  lookup: LookupFunction,
  timeoutMs: number,
): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  const url = new URL(target);
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(url, { method: 'POST', headers, lookup, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      res.on('error', (err) => reject(new ProviderError(err.message, true)));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    const deadline = setTimeout(() => req.destroy(new Error('no answer in time')), timeoutMs);
    req.on('close', () => clearTimeout(deadline));
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(new ProviderError(`unreachable: ${err.message}`, err.code !== 'EPUSHBLOCKED')),
    );
    req.end(body ?? undefined);
  });
}
