/**
 * When an access token (a JWT) was issued and expires, read from its `iat` and `exp` claims without
 * verifying it (the server does that); undefined for anything else, e.g. a bot's API key, which
 * does not expire.
 */
export function tokenLifetime(token: string): { issuedAt: number; expiresAt: number } | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, '='))) as {
      iat?: unknown;
      exp?: unknown;
    };
    if (typeof claims.exp !== 'number') return undefined;
    const expiresAt = claims.exp * 1000;
    return { issuedAt: typeof claims.iat === 'number' ? claims.iat * 1000 : expiresAt - 900_000, expiresAt };
  } catch {
    return undefined;
  }
}
