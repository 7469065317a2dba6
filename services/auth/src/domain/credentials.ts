import { AppError } from '@im/platform/errors';

/** Usernames: 3-32 of a-z 0-9 . _ -, compared case-insensitively (stored lower-cased, NFKC). */
const USERNAME = /^[a-z0-9][a-z0-9._-]{2,31}$/;
const TENANT = /^[a-z0-9][a-z0-9-]{1,39}$/;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;
export const DISPLAY_NAME_MAX = 64;

export function normalizeUsername(raw: string): string {
  return raw.normalize('NFKC').trim().toLowerCase();
}

export function normalizeTenant(raw: string, fallback: string): string {
  const t = raw.normalize('NFKC').trim().toLowerCase();
  return t === '' ? fallback : t;
}

export interface Registration {
  tenant: string;
  username: string;
  password: string;
  displayName: string;
}

/** Checks a registration and returns it normalised, or throws invalid_argument saying what is wrong. */
export function validateRegistration(input: Registration): Registration {
  const username = normalizeUsername(input.username);
  if (!USERNAME.test(username)) {
    throw new AppError(
      'invalid_argument',
      'username must be 3-32 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit',
    );
  }
  if (!TENANT.test(input.tenant)) {
    throw new AppError('invalid_argument', 'tenant must be 2-40 characters of a-z, 0-9 or "-"');
  }
  const length = [...input.password].length;
  if (length < PASSWORD_MIN || length > PASSWORD_MAX) {
    throw new AppError('invalid_argument', `password must be ${PASSWORD_MIN}-${PASSWORD_MAX} characters`);
  }
  const displayName = input.displayName.trim() || username;
  if ([...displayName].length > DISPLAY_NAME_MAX || /\p{Cc}/u.test(displayName)) {
    throw new AppError(
      'invalid_argument',
      `displayName must be at most ${DISPLAY_NAME_MAX} printable characters`,
    );
  }
  return { tenant: input.tenant, username, password: input.password, displayName };
}

/** Login input that cannot name an account is answered like a wrong password (no oracle). */
export function isPlausibleLogin(username: string, password: string, tenant: string): boolean {
  return (
    USERNAME.test(username) &&
    TENANT.test(tenant) &&
    password.length > 0 &&
    password.length <= PASSWORD_MAX * 4
  );
}
