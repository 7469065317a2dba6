import { Inject, Injectable } from '@nestjs/common';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import { AppError } from '@im/platform/errors';
import { CONFIG } from '@im/platform/nest';
import type { Caller } from '@im/proto/common/v1';
import type { GatewayConfig } from '../config.js';
import { ApiKeys, isApiKey } from './api-keys.js';
import { JwksCache } from './jwks-cache.js';
import { RevokedSessions } from './revoked-sessions.js';

export interface Principal extends Caller {
  expiresAt: number;
  /** A bot's key: its sockets are checked again with it when expiresAt passes (keys do not expire). */
  apiKey?: string;
}

/**
 * Verifies access tokens locally (bots' API keys through the auth service, cached): EdDSA only (no "none", no HMAC, no key confusion), a key from
 * the auth service's JWKS, issuer, audience, expiry (5 s leeway), required claims, and a session
 * that is not revoked.
 */
@Injectable()
export class TokenVerifier {
  constructor(
    private readonly jwks: JwksCache,
    private readonly revoked: RevokedSessions,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly apiKeys: ApiKeys,
  ) {}

  async verify(token: string): Promise<Principal> {
    if (isApiKey(token)) {
      const principal = await this.apiKeys.verify(token);
      if (this.revoked.isRevoked(principal.sessionId))
        throw new AppError('invalid_token', 'API key was revoked');
      return principal;
    }
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
        clockTolerance: 5,
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
    if (this.revoked.isRevoked(sid))
      throw new AppError('session_revoked', 'session was revoked: log in again');
    return { userId: sub, tenantId: tid, sessionId: sid, expiresAt: exp * 1000 };
  }

  /** The token of an "Authorization: Bearer <token>" header, if that is what the header holds. */
  static bearer(header: string | undefined): string | undefined {
    const m = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header?.trim() ?? '');
    return m?.[1];
  }
}
