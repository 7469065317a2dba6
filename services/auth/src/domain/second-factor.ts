import { createHash, randomInt } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';

/** RFC 6238 as every authenticator app reads it: HMAC-SHA1, 6 digits, 30-second steps. */
const TOTP_SHAPE = { algorithm: 'SHA1', digits: 6, period: 30 } as const;
/** One step either side: a phone's clock a little off, a code typed as it turned. */
const DRIFT_STEPS = 1;

export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The otpauth:// URI an authenticator app scans (as a QR code). */
export function totpUri(secret: string, issuer: string, account: string): string {
  return new TOTP({ ...TOTP_SHAPE, issuer, label: account, secret: Secret.fromBase32(secret) }).toString();
}

/** The time step the code belongs to, or undefined when it matches none near `nowMs`. */
export function totpStep(secret: string, code: string, nowMs: number): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const totp = new TOTP({ ...TOTP_SHAPE, secret: Secret.fromBase32(secret) });
  const delta = totp.validate({ token: code, timestamp: nowMs, window: DRIFT_STEPS });
  return delta === null ? undefined : totp.counter({ timestamp: nowMs }) + delta;
}

/** The current code of a secret (tests and the load generator act as the user's phone). */
export function totpCode(secret: string, nowMs = Date.now()): string {
  return new TOTP({ ...TOTP_SHAPE, secret: Secret.fromBase32(secret) }).generate({ timestamp: nowMs });
}

const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const RECOVERY_LENGTH = 16; // ~79 bits: a stolen hash cannot be walked back

/** Ten single-use codes, "xxxx-xxxx-xxxx-xxxx". */
export function newRecoveryCodes(count = 10): string[] {
  return Array.from({ length: count }, () => {
    const chars = Array.from(
      { length: RECOVERY_LENGTH },
      () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)],
    );
    return chars.join('').replace(/(.{4})(?!$)/g, '$1-');
  });
}

/** A recovery code as typed (any case, with or without dashes and spaces), or undefined if it is none. */
export function normalizeRecoveryCode(input: string): string | undefined {
  const bare = input.toLowerCase().replace(/[\s-]/g, '');
  return bare.length === RECOVERY_LENGTH && [...bare].every((c) => RECOVERY_ALPHABET.includes(c))
    ? bare
    : undefined;
}

export function hashSecretToken(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}
