import { baseEnv, cassandraEnv, env, grpcServerEnv, natsBucketEnv, natsEnv } from '@im/platform/config';
import { z } from 'zod';

export const authConfigSchema = z
  .object({
    ...baseEnv,
    ...grpcServerEnv,
    ...cassandraEnv,
    ...natsEnv,
    REFRESH_REUSE_GRACE_SEC: env.int(
      'a spent refresh token presented again within this many seconds, its successor still unused, gets a new pair (the answer was lost) instead of revoking the session; 0 = never',
      10,
      0,
      300,
    ),
    ACCESS_TOKEN_TTL_SEC: natsBucketEnv.ACCESS_TOKEN_TTL_SEC,
    REFRESH_TOKEN_TTL_SEC: env.int(
      'lifetime of a refresh token (each use issues a new one)',
      30 * 86_400,
      60,
      365 * 86_400,
    ),
    JWT_ISSUER: z.string().min(1).default('im-auth').describe('iss claim of access tokens'),
    JWT_AUDIENCE: z.string().min(1).default('im').describe('aud claim of access tokens'),
    DEFAULT_TENANT: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{1,39}$/)
      .default('default')
      .describe('tenant of requests that name none'),
    AUTH_ALLOW_TENANT_CREATION: env.bool(
      'registering into an unknown tenant name creates it, open, with the registrant as admin (development only; otherwise operators create tenants)',
      false,
    ),
    DEFAULT_TENANT_REGISTRATION: env.oneOf(
      'who may register into the default tenant when auth creates it: anyone ("open") or invited people ("invite")',
      ['invite', 'open'],
      'invite',
    ),
    AUTH_OPERATOR_TOKEN: z
      .string()
      .min(32)
      .optional()
      .describe(
        'credential of platform operators (im-admin): creates tenants and their first admin invites; unset: nobody can',
      ),
    AUTH_KEY_ENCRYPTION_KEY: z
      .string()
      .regex(/^[A-Za-z0-9_-]{43}=?$/, 'must be 32 bytes, base64url')
      .optional()
      .describe(
        'encrypts signing keys at rest (AES-256-GCM); 32 bytes base64url. Required unless AUTH_ALLOW_UNENCRYPTED_SIGNING_KEYS=true',
      ),
    SIGNING_KEY_REFRESH_SEC: env.int(
      'how often each replica reloads the signing keys (rotation)',
      30,
      1,
      3_600,
    ),
    LOGIN_MAX_FAILURES_PER_ACCOUNT: env.int(
      'failed logins on one account from one client IP within the window before that IP is slowed down on it',
      10,
      1,
      10_000,
    ),
    LOGIN_MAX_FAILURES_PER_ACCOUNT_ALL_IPS: env.int(
      'failed logins on one account from all IPs within the window (a distributed attack) before it waits for the window',
      100,
      1,
      1_000_000,
    ),
    LOGIN_ACCOUNT_SLOWDOWN_SEC: env.int(
      'past its failure limit, one client IP gets one login attempt on the account per this many seconds (slowed, not locked out)',
      90,
      1,
      3_600,
    ),
    LOGIN_MAX_FAILURES_PER_IP: env.int(
      'failed logins per client IP within the window before throttling',
      100,
      1,
      1_000_000,
    ),
    REGISTER_MAX_PER_IP_PER_MIN: env.int(
      'registration attempts per client IP in any minute (counted in Cassandra, so across every auth replica; 0: no limit)',
      30,
      0,
      1_000_000,
    ),
    REGISTER_MAX_PER_TENANT_PER_MIN: env.int(
      'registration attempts into one tenant in any minute (counted in Cassandra, so across every auth replica; 0: no limit)',
      300,
      0,
      1_000_000,
    ),
    MFA_ISSUER: z
      .string()
      .min(1)
      .max(64)
      .default('IM')
      .describe('issuer name authenticator apps show next to the account (the otpauth URI)'),
    MFA_CHALLENGE_TTL_SEC: env.int(
      'how long the second step of a login (the MFA challenge) stays open',
      300,
      30,
      900,
    ),
    MFA_CHALLENGE_ATTEMPTS: env.int('codes one MFA challenge takes before the login starts over', 5, 1, 20),
    MFA_MAX_FAILURES: env.int(
      'wrong second-factor codes per user within LOGIN_FAILURE_WINDOW_SEC, across challenges, before verification waits',
      10,
      1,
      1_000,
    ),
    MFA_MAX_FAILURES_PER_DAY: env.int(
      'wrong second-factor codes per user within 24 hours before verification waits (bounds a patient guesser: about 3 % a year at 30)',
      30,
      1,
      10_000,
    ),
    AUTH_DEVICE_TOKEN_TTL_SEC: env.int(
      'how long a device stays known after a login from it: its logins are not held back when failures from many addresses lock the account',
      90 * 86_400,
      86_400,
      400 * 86_400,
    ),
    LOGIN_FAILURE_WINDOW_SEC: env.int('window of the failed-login counters', 900, 10, 86_400),
    ARGON2_MEMORY_KIB: env.int('argon2id memory cost in KiB', 19_456, 1_024, 1_048_576),
    ARGON2_PASSES: env.int('argon2id time cost (passes)', 2, 1, 20),
    SMTP_URL: z
      .string()
      .trim()
      .regex(
        /^smtps?:\/\/[^\s?#]+$/,
        'must be an smtp:// or smtps:// URL without query parameters (TLS follows SMTP_REQUIRE_TLS)',
      )
      .optional()
      .describe(
        'mail server for email invites: smtp://[user:pass@]host:port (STARTTLS) or smtps:// (TLS from the start); unset: nobody joins a tenant by email',
      ),
    SMTP_REQUIRE_TLS: env.bool(
      'refuse to send mail unencrypted to a mail server other than loopback (smtp:// must then offer STARTTLS)',
      true,
    ),
    MAIL_FROM: z
      .string()
      .trim()
      .min(3)
      .max(320)
      .default('IM <no-reply@localhost>')
      .describe('From: of the mails auth sends (email invites)'),
    AUTH_EMAIL_INVITE_TTL_SEC: env.int('how long a mailed invite stays valid', 3_600, 300, 7 * 86_400),
    AUTH_EMAIL_RESEND_SEC: env.int(
      'one mail per address per this many seconds, across auth replicas (nobody mail-bombs an inbox)',
      60,
      1,
      86_400,
    ),
    AUTH_ALLOW_UNENCRYPTED_SIGNING_KEYS: env.bool(
      'start without AUTH_KEY_ENCRYPTION_KEY, keeping signing keys in clear (throwaway setups only)',
      false,
    ),
  })
  .superRefine((c, ctx) => {
    if (!c.AUTH_KEY_ENCRYPTION_KEY && !c.AUTH_ALLOW_UNENCRYPTED_SIGNING_KEYS)
      ctx.addIssue({
        code: 'custom',
        path: ['AUTH_KEY_ENCRYPTION_KEY'],
        message:
          'required: signing keys are not stored in clear (or set AUTH_ALLOW_UNENCRYPTED_SIGNING_KEYS=true for a throwaway setup)',
      });
  });

export type AuthConfig = z.output<typeof authConfigSchema>;
