import { Inject, Injectable } from '@nestjs/common';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import { AppError } from '@im/platform/errors';
import { CONFIG } from '@im/platform/nest';
import type { Caller } from '@im/proto/common/v1';
import type { GatewayConfig } from '../config.js';
import { ApiKeys, isApiKey } from './api-keys.js';
import { JwksCache, type VerifyKey } from './jwks-cache.js';
import { RevokedSessions } from './revoked-sessions.js';

export interface Principal extends Caller {
  expiresAt: number;
  /** A bot's key: its sockets are checked again with it when expiresAt passes (keys do not expire). */
  apiKey?: string;
}

const CLOCK_TOLERANCE_SEC = 5;
/** Tokens whose verification is remembered (a few hundred bytes each). */
const VERIFIED_MAX = 10_000;

interface Verified {
  principal: Principal;
  kid: string;
  key: VerifyKey;
}

/**
 * Verifies access tokens locally (bots' API keys through the auth service, cached): EdDSA only (no "none", no HMAC, no key confusion), a key from
 * the auth service's JWKS, issuer, audience, expiry (5 s leeway), required claims, and a session
 * that is not revoked. A client sends the same token with every request until it refreshes it, and
 * each verification is an Ed25519 check on libuv's thread pool, so a verified token is remembered
 * (by its text) while its key is the one the JWKS holds; expiry and revocation are checked at
 * every use.
 */
@Injectable()
export class TokenVerifier {
  constructor(
    private readonly jwks: JwksCache,
    private readonly revoked: RevokedSessions,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly apiKeys: ApiKeys,
  ) {}

  private readonly verified = new Map<string, Verified>();

  async verify(token: string): Promise<Principal> {
    if (isApiKey(token)) {
      const principal = await this.apiKeys.verify(token);
      if (this.revoked.isRevoked(principal.sessionId))
        throw new AppError('invalid_token', 'API key was revoked');
      return principal;
    }
    const known = this.verified.get(token);
    if (known && this.jwks.current(known.kid) === known.key) return this.admit(known.principal);
    if (known) this.verified.delete(token);
    let kid: string | undefined;
    try {
      const header = decodeProtectedHeader(token);
      if (header.alg !== 'EdDSA')
        throw new AppError('invalid_token', `token algorithm ${String(header.alg)} is not accepted`);
      kid = header.kid;
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw new AppError('invalid_token', 'token is malformed');
    }
    const key = kid ? await this.jwks.key(kid) : undefined;
    if (!key) throw new AppError('invalid_token', 'token is signed by an unknown key');
    let payload;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: ['EdDSA'],
        issuer: this.config.JWT_ISSUER,
        audience: this.config.JWT_AUDIENCE,
        clockTolerance: CLOCK_TOLERANCE_SEC,
        requiredClaims: ['sub', 'exp', 'iat'],
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired)
        throw new AppError('token_expired', 'access token expired: refresh it');
      throw new AppError('invalid_token', 'token is not valid');
    }
    const { sub, tid, sid, exp } = payload as { sub?: string; tid?: unknown; sid?: unknown; exp?: number };
    if (
      typeof sub !== 'string' ||
      typeof tid !== 'string' ||
      typeof sid !== 'string' ||
      typeof exp !== 'number'
    ) {
      throw new AppError('invalid_token', 'token lacks required claims');
    }
    const principal = { userId: sub, tenantId: tid, sessionId: sid, expiresAt: exp * 1000 };
    if (this.verified.size >= VERIFIED_MAX) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { principal, kid: kid!, key });
    return this.admit(principal);
  }

  /** What is checked at every use of a verified token: its expiry and its session. */
  private admit(principal: Principal): Principal {
    if (Date.now() >= principal.expiresAt + CLOCK_TOLERANCE_SEC * 1000)
      throw new AppError('token_expired', 'access token expired: refresh it');
    if (this.revoked.isRevoked(principal.sessionId))
      throw new AppError('session_revoked', 'session was revoked: log in again');
    return { ...principal };
  }

  /** The token of an "Authorization: Bearer <token>" header, if that is what the header holds. */
  static bearer(header: string | undefined): string | undefined {
    const m = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header?.trim() ?? '');
    return m?.[1];
  }
}
