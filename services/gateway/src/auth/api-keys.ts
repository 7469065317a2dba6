import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Downstream } from '../clients/downstream.js';
import type { Principal } from './token-verifier.js';

const CACHE_MS = 60_000;
/** How often a bot's open sockets verify its key again. */
const KEY_RECHECK_MS = 10 * 60_000;
const CACHE_MAX = 10_000;

/** API keys look like "imk1.<43 base64url>"; anything else is an access token. */
export const isApiKey = (token: string) => token.startsWith('imk1.');

/**
 * Bots' API keys, verified by the auth service and cached a minute by the key's hash. A revoked
 * key's id arrives on the revocation watch like a session's, and the caller of verify() checks
 * that on every request, so revocation does not wait for the cache.
 */
@Injectable()
export class ApiKeys {
  private readonly cache = new Map<string, { principal: Principal; until: number }>();

  constructor(private readonly downstream: Downstream) {}

  async verify(key: string): Promise<Principal> {
    const hash = createHash('sha256').update(key).digest('hex');
    const now = Date.now();
    const hit = this.cache.get(hash);
    if (hit && hit.until > now) return hit.principal;
    const res = await this.downstream.auth.verifyApiKey({ apiKey: key });
    const principal: Principal = {
      userId: res.userId,
      tenantId: res.tenantId,
      sessionId: res.sessionId,
      // a key does not expire, but its sockets check it again now and then: a revocation whose
      // watch entry was missed still ends them
      expiresAt: now + KEY_RECHECK_MS,
      apiKey: key,
    };
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(hash, { principal, until: now + CACHE_MS });
    return principal;
  }
}
