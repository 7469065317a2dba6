import { createHash, randomBytes } from 'node:crypto';

/** Claims of an access token besides iss/aud/iat/exp. */
export interface AccessClaims {
  sub: string;
  tid: string;
  sid: string;
}

/** An opaque secret `<prefix>.<random base64url>` and the SHA-256 under which it is stored. */
function opaqueSecret(prefix: string, bytes: number): { value: string; hash: string } {
  const value = `${prefix}.${randomBytes(bytes).toString('base64url')}`;
  return { value, hash: sha256Hex(value) };
}

const sha256Hex = (value: string) => createHash('sha256').update(value).digest('hex');

const REFRESH = /^rt1\.[A-Za-z0-9_-]{43}$/;
const INVITE = /^inv1\.[A-Za-z0-9_-]{32}$/;

/** An opaque refresh token (256 random bits) and the hash under which it is stored. */
export function newRefreshToken(): { token: string; hash: string } {
  const { value, hash } = opaqueSecret('rt1', 32);
  return { token: value, hash };
}

export const hashRefreshToken = sha256Hex;

export function isWellFormedRefreshToken(token: string): boolean {
  return REFRESH.test(token);
}

/** A single-use invite code (192 random bits) and the hash under which it is stored. */
export function newInviteCode(): { code: string; hash: string } {
  const { value, hash } = opaqueSecret('inv1', 24);
  return { code: value, hash };
}

export const hashInviteCode = sha256Hex;

export function isWellFormedInviteCode(code: string): boolean {
  return INVITE.test(code);
}

const API_KEY = /^imk1\.[A-Za-z0-9_-]{43}$/;

/** A bot's API key (256 random bits) and the hash under which it is stored. */
export function newApiKey(): { key: string; hash: string } {
  const { value, hash } = opaqueSecret('imk1', 32);
  return { key: value, hash };
}

export const hashApiKey = sha256Hex;

export function isWellFormedApiKey(key: string): boolean {
  return API_KEY.test(key);
}

const DEVICE = /^dev1\.[A-Za-z0-9_-]{43}$/;

/** A device token (256 random bits): marks a device a user logged in from (login throttling). */
export function newDeviceToken(): { token: string; hash: string } {
  const { value, hash } = opaqueSecret('dev1', 32);
  return { token: value, hash };
}

export const hashDeviceToken = sha256Hex;

export function isWellFormedDeviceToken(token: string): boolean {
  return DEVICE.test(token);
}
