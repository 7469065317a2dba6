import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@im/platform/errors';
import { uuidv7 } from '@im/platform/ids';
import type { Logger } from '@im/platform/logging';
import { LOGGER } from '@im/platform/nest';
import type { User } from '@im/proto/client/v1';
import type { Caller } from '@im/proto/common/v1';
import { ApiKeysTable } from '../storage/api-keys.table.js';
import { UsersTable, type UserRow } from '../storage/users.table.js';
import { AuthService, toUser } from './auth.service.js';
import { normalizeUsername, validateRegistration } from './credentials.js';
import { TenancyService } from './tenancy.service.js';
import { hashApiKey, isWellFormedApiKey, newApiKey } from './tokens.js';

/** The id an API key stands in for a session under: revoking the key revokes it like one. */
export const keySessionId = (keyId: string) => `key-${keyId}`;

/**
 * Bots: users of kind "bot" that tenant admins create and that call the REST API with an API key
 * (only its SHA-256 is stored). Keys rotate (every earlier one stops) and can all be revoked;
 * disabling or removing the bot as a user revokes them too.
 */
@Injectable()
export class BotsService {
  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly users: UsersTable,
    private readonly keys: ApiKeysTable,
    private readonly tenancy: TenancyService,
    private readonly auth: AuthService,
  ) {}

  async create(
    caller: Caller | undefined,
    username: string,
    displayName: string,
  ): Promise<{ bot: User; apiKey: string }> {
    const admin = await this.tenancy.requireAdmin(caller);
    // the same rules as people's usernames; a password nobody knows (bots never log in)
    const reg = validateRegistration({
      tenant: 'bots',
      username,
      password: randomBytes(24).toString('base64url'),
      displayName,
    });
    const userId = uuidv7();
    if (!(await this.users.claimUsername(admin.tenantId, reg.username, userId)))
      throw new AppError('username_taken', `username "${reg.username}" is taken`);
    const row: UserRow = {
      userId,
      tenantId: admin.tenantId,
      username: normalizeUsername(reg.username),
      displayName: reg.displayName,
      passwordHash: '!bot',
      createdAt: new Date(),
      role: 'member',
      kind: 'bot',
    };
    await this.users.insert(row);
    const apiKey = await this.issue(row);
    this.logger.info({ botId: userId, by: admin.userId }, 'bot created');
    return { bot: toUser(row), apiKey };
  }

  async rotate(caller: Caller | undefined, botId: string): Promise<string> {
    const bot = await this.requireBot(caller, botId);
    await this.auth.revokeKeys(bot.userId);
    return this.issue(bot);
  }

  async revoke(caller: Caller | undefined, botId: string): Promise<void> {
    const bot = await this.requireBot(caller, botId);
    await this.auth.revokeKeys(bot.userId);
  }

  async verify(apiKey: string): Promise<{ userId: string; tenantId: string; sessionId: string }> {
    const refused = () => new AppError('invalid_token', 'API key is not valid');
    if (!isWellFormedApiKey(apiKey)) throw refused();
    const key = await this.keys.byHash(hashApiKey(apiKey));
    if (!key || key.revokedAt) throw refused();
    const user = await this.users.get(key.userId);
    if (!user || user.kind !== 'bot' || user.disabledAt) throw refused();
    return { userId: user.userId, tenantId: user.tenantId, sessionId: keySessionId(key.keyId) };
  }

  private async issue(bot: UserRow): Promise<string> {
    const { key, hash } = newApiKey();
    await this.keys.insert(hash, { keyId: uuidv7(), userId: bot.userId, tenantId: bot.tenantId });
    return key;
  }

  private async requireBot(caller: Caller | undefined, botId: string): Promise<UserRow> {
    const admin = await this.tenancy.requireAdmin(caller);
    const bot = await this.users.get(botId);
    if (!bot || bot.kind !== 'bot' || bot.tenantId !== admin.tenantId || bot.removedAt)
      throw new AppError('not_found', 'no such bot');
    return bot;
  }
}
