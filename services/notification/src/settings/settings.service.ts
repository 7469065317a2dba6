import { Injectable } from '@nestjs/common';
import { AppError } from '@im/platform/errors';
import type { Caller } from '@im/proto/common/v1';
import type {
  ConversationNotificationSettings,
  NotificationSettings,
  QuietHours,
  UpdateConversationSettingsRequest,
  UpdateSettingsRequest,
} from '@im/proto/notification/v1';
import { MessageClient } from '../clients/message.client.js';
import {
  isValidTime,
  isValidTimeZone,
  type ConversationRules,
  type Level,
  type Previews,
  type UserRules,
} from '../domain/notification-rules.js';
import { RulesTable } from '../storage/rules.table.js';
import { RulesCache } from './rules-cache.js';

const PREVIEWS: readonly Previews[] = ['full', 'sender', 'none'];
const LEVELS: readonly Level[] = ['all', 'mentions', 'none'];
const KEYWORDS_MAX = 50;
const KEYWORD_LENGTH_MAX = 64;

/** A user's notification rules and each conversation's level and mute. */
@Injectable()
export class SettingsService {
  constructor(
    private readonly table: RulesTable,
    private readonly cache: RulesCache,
    private readonly messages: MessageClient,
  ) {}

  async get(caller: Caller): Promise<NotificationSettings> {
    return userView(await this.table.user(caller.userId));
  }

  async update(caller: Caller, r: UpdateSettingsRequest): Promise<NotificationSettings> {
    if (r.previews !== undefined && !PREVIEWS.includes(r.previews as Previews))
      throw new AppError('invalid_argument', 'previews: full, sender or none');
    if (r.quietHours) checkQuietHours(r.quietHours);
    if (r.setKeywords) checkKeywords(r.keywords);
    const current = await this.table.user(caller.userId);
    const next: UserRules = {
      previews: (r.previews as Previews | undefined) ?? current.previews,
      quietHours: r.clearQuietHours ? undefined : (r.quietHours ?? current.quietHours),
      keywords: r.setKeywords ? [...new Set(r.keywords.map((k) => k.trim()))] : current.keywords,
    };
    await this.table.putUser(caller.userId, next);
    this.cache.forgetUser(caller.userId);
    return userView(next);
  }

  async getConversation(caller: Caller, conversationId: string): Promise<ConversationNotificationSettings> {
    await this.requireMember(caller, conversationId);
    return conversationView(await this.table.conversation(caller.userId, conversationId));
  }

  async updateConversation(
    caller: Caller,
    r: UpdateConversationSettingsRequest,
  ): Promise<ConversationNotificationSettings> {
    if (r.level !== undefined && r.level !== 'default' && !LEVELS.includes(r.level as Level))
      throw new AppError('invalid_argument', 'level: all, mentions, none or default');
    const until = r.mutedUntil ? new Date(r.mutedUntil) : undefined;
    if (until && Number.isNaN(until.getTime()))
      throw new AppError('invalid_argument', 'mutedUntil: a date-time');
    await this.requireMember(caller, r.conversationId);
    const current = await this.table.conversation(caller.userId, r.conversationId);
    const next: ConversationRules = {
      level: r.level === 'default' ? undefined : ((r.level as Level | undefined) ?? current.level),
      mutedUntil: r.clearMutedUntil ? undefined : (until ?? current.mutedUntil),
    };
    await this.table.putConversation(caller.userId, r.conversationId, next);
    this.cache.forgetConversation(caller.userId, r.conversationId);
    return conversationView(next);
  }

  private async requireMember(caller: Caller, conversationId: string): Promise<void> {
    if (!(await this.messages.isMember(caller, conversationId)))
      throw new AppError('not_found', 'no such conversation');
  }
}

function checkQuietHours(q: QuietHours): void {
  if (!isValidTime(q.start) || !isValidTime(q.end))
    throw new AppError('invalid_argument', 'quietHours: start and end as "HH:MM" (24 h)');
  if (!isValidTimeZone(q.timeZone))
    throw new AppError('invalid_argument', 'quietHours.timeZone: an IANA time zone');
}

function checkKeywords(keywords: readonly string[]): void {
  if (keywords.length > KEYWORDS_MAX)
    throw new AppError('invalid_argument', `keywords: at most ${KEYWORDS_MAX}`);
  if (keywords.some((k) => k.trim().length === 0 || k.length > KEYWORD_LENGTH_MAX))
    throw new AppError('invalid_argument', `keywords: each 1-${KEYWORD_LENGTH_MAX} characters`);
}

function userView(r: UserRules): NotificationSettings {
  return {
    previews: r.previews,
    ...(r.quietHours ? { quietHours: r.quietHours } : {}),
    keywords: [...r.keywords],
  };
}

function conversationView(r: ConversationRules): ConversationNotificationSettings {
  return {
    level: r.level ?? 'default',
    ...(r.mutedUntil ? { mutedUntil: r.mutedUntil.toISOString() } : {}),
  };
}
