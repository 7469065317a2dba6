import { BotsService } from './domain/bots.service.js';
import { ApiKeysTable } from './storage/api-keys.table.js';
import { Invites } from './domain/invites.js';
import { TenancyService } from './domain/tenancy.service.js';
import { InvitesTable } from './storage/invites.table.js';
import { fileURLToPath } from 'node:url';
import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from '@im/platform/logging';
import { PlatformModule } from '@im/platform/nest';
import { AuthGrpcApi } from './api/auth.grpc.js';
import type { AuthConfig } from './config.js';
import { AuthService } from './domain/auth.service.js';
import { KeyRing } from './keys/key-ring.js';
import { SessionRevocations } from './producers/session-revocations.js';
import { LoginFailuresTable } from './storage/login-failures.table.js';
import { RefreshTokensTable } from './storage/refresh-tokens.table.js';
import { RevocationsPendingTable } from './storage/revocations-pending.table.js';
import { SessionsTable } from './storage/sessions.table.js';
import { SigningKeysTable } from './storage/signing-keys.table.js';
import { TenantsTable } from './storage/tenants.table.js';
import { UsersTable } from './storage/users.table.js';
import { RegistrationLimiter } from './domain/registration-limiter.js';
import { MfaService } from './domain/mfa.service.js';
import { MfaChallengesTable } from './storage/mfa-challenges.table.js';
import { MfaTable } from './storage/mfa.table.js';
import { EmailInvites } from './domain/email-invites.service.js';
import { Mailer } from './mail/mailer.js';
import { EmailSendsTable } from './storage/email-sends.table.js';
import { RecentRevocationsTable } from './storage/recent-revocations.table.js';
import { KnownDevicesTable } from './storage/known-devices.table.js';
import { KnownDevices } from './domain/known-devices.js';

const MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));

@Module({})
export class AuthModule {
  static forRoot(config: AuthConfig, logger: Logger): DynamicModule {
    return {
      module: AuthModule,
      imports: [
        PlatformModule.forRoot({
          service: 'auth',
          config,
          logger,
          cassandra: { migrationsDir: MIGRATIONS },
          nats: true,
        }),
      ],
      providers: [
        TenantsTable,
        UsersTable,
        SessionsTable,
        RevocationsPendingTable,
        RecentRevocationsTable,
        KnownDevicesTable,
        KnownDevices,
        RefreshTokensTable,
        LoginFailuresTable,
        SigningKeysTable,
        KeyRing,
        SessionRevocations,
        RegistrationLimiter,
        InvitesTable,
        ApiKeysTable,
        MfaTable,
        MfaChallengesTable,
        Invites,
        EmailSendsTable,
        Mailer,
        EmailInvites,
        MfaService,
        AuthService,
        TenancyService,
        BotsService,
        AuthGrpcApi,
      ],
    };
  }
}
