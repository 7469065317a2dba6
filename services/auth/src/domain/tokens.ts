import { createHash, randomBytes } from 'node:crypto';

/** Claims of an access token besides iss/aud/iat/exp. */
export interface AccessClaims {
  sub: string;
  tid: string;
  sid: string;
}

const REFRESH = /^rt1\.[A-Za-z0-9_-]{43}$/;

/** An opaque refresh token (256 random bits) and the hash under which it is stored. */
export function newRefreshToken(): { token: string; hash: string } {
  const token = `rt1.${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashRefreshToken(token) };
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function isWellFormedRefreshToken(token: string): boolean {
  return REFRESH.test(token);
}
