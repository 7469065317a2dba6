import type { Tenant, TenantUser } from '@im/proto/auth/v1';
import type { User, Webhook, WebhookDeadLetter } from '@im/proto/client/v1';
import type { ImClient } from './client.js';
import { qs } from './query-string.js';

export interface Bot {
  bot: User;
  /** Shown once: keep it. */
  apiKey: string;
}

/**
 * What tenant admins do (docs/protocol.md, "Tenants, invites and tenant admins", "Webhooks",
 * "Bots"). Everyone else gets `403 forbidden`.
 */
export class TenantAdmin {
  constructor(private readonly client: ImClient) {}

  /** A single-use, expiring invite (default 7 days) into the admin's tenant. */
  createInvite(
    options: { role?: 'member' | 'admin'; ttlSeconds?: number } = {},
  ): Promise<{ invite: string }> {
    return this.client.call('POST', '/v1/tenant/invites', options);
  }

  users(
    query: { cursor?: string; limit?: number } = {},
  ): Promise<{ users: TenantUser[]; nextCursor?: string }> {
    return this.client.call('GET', `/v1/tenant/users${qs(query)}`);
  }

  /** Disabling ends every session of the user at once; resetMfa turns their second factor off. */
  updateUser(
    userId: string,
    change: { disabled?: boolean; role?: 'member' | 'admin'; resetMfa?: true },
  ): Promise<TenantUser> {
    return this.client.call('PATCH', `/v1/tenant/users/${userId}`, change);
  }

  /** For good: every session ends, the username stays taken. */
  removeUser(userId: string): Promise<void> {
    return this.client.call('DELETE', `/v1/tenant/users/${userId}`);
  }

  updateTenant(change: {
    registration?: 'open' | 'invite';
    mfaPolicy?: 'off' | 'admins' | 'everyone';
    groupAdds?: 'anyone' | 'consent';
    /** Replaces the domains whose people may join by a mailed invite; [] turns it off. */
    emailDomains?: string[];
  }): Promise<Tenant> {
    return this.client.call('PATCH', '/v1/tenant', change);
  }

  createBot(username: string, displayName?: string): Promise<Bot> {
    return this.client.call('POST', '/v1/bots', { username, displayName });
  }

  /** A new API key for the bot; the previous ones stop working. */
  rotateBotKey(botId: string): Promise<{ apiKey: string }> {
    return this.client.call('POST', `/v1/bots/${botId}/keys`);
  }

  revokeBotKeys(botId: string): Promise<void> {
    return this.client.call('DELETE', `/v1/bots/${botId}/keys`);
  }

  /** `secret` signs every delivery (X-IM-Signature) and is shown only here. */
  createWebhook(url: string, events: string[]): Promise<{ webhook: Webhook; secret: string }> {
    return this.client.call('POST', '/v1/webhooks', { url, events });
  }

  async webhooks(): Promise<Webhook[]> {
    return (await this.client.call<{ webhooks: Webhook[] }>('GET', '/v1/webhooks')).webhooks;
  }

  deleteWebhook(id: string): Promise<void> {
    return this.client.call('DELETE', `/v1/webhooks/${id}`);
  }

  async deadLetters(webhookId: string): Promise<WebhookDeadLetter[]> {
    return (
      await this.client.call<{ deadLetters: WebhookDeadLetter[] }>(
        'GET',
        `/v1/webhooks/${webhookId}/dead-letters`,
      )
    ).deadLetters;
  }
}
