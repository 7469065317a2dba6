import { Inject, Injectable } from '@nestjs/common';
import { cql, type CassandraClient } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';

export interface WebhookRow {
  tenantId: string;
  webhookId: string;
  url: string;
  events: string[];
  secret: string;
  createdAt: Date;
}

export interface DeadLetterRow {
  eventId: string;
  eventType: string;
  conversationId: string;
  failedAt: Date;
  attempts: number;
  lastError: string;
}

/** webhooks_by_tenant and webhook_dead_letters. */
@Injectable()
export class WebhooksTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  async insert(w: WebhookRow): Promise<void> {
    await this.db.execute(
      'INSERT INTO webhooks_by_tenant (tenant_id, webhook_id, url, events, secret, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      [w.tenantId, w.webhookId, w.url, w.events, w.secret, w.createdAt],
    );
  }

  async ofTenant(tenantId: string): Promise<WebhookRow[]> {
    const rs = await this.db.execute(
      'SELECT tenant_id, webhook_id, url, events, secret, created_at FROM webhooks_by_tenant WHERE tenant_id = ?',
      [tenantId],
    );
    return rs.rows.map((r) => ({
      tenantId: r.get('tenant_id') as string,
      webhookId: r.get('webhook_id') as string,
      url: r.get('url') as string,
      events: [...((r.get('events') as string[] | null) ?? [])],
      secret: r.get('secret') as string,
      createdAt: r.get('created_at') as Date,
    }));
  }

  async remove(tenantId: string, webhookId: string): Promise<void> {
    await this.db.execute('DELETE FROM webhooks_by_tenant WHERE tenant_id = ? AND webhook_id = ?', [
      tenantId,
      webhookId,
    ]);
  }

  async deadLetter(webhookId: string, d: Omit<DeadLetterRow, 'failedAt'>): Promise<void> {
    await this.db.execute(
      'INSERT INTO webhook_dead_letters (webhook_id, failed_at, event_id, event_type, conversation_id, attempts, last_error) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [webhookId, cql.TimeUuid.now(), d.eventId, d.eventType, d.conversationId, d.attempts, d.lastError],
    );
  }

  async deadLetters(webhookId: string, limit = 100): Promise<DeadLetterRow[]> {
    const rs = await this.db.execute(
      'SELECT failed_at, event_id, event_type, conversation_id, attempts, last_error FROM webhook_dead_letters WHERE webhook_id = ? LIMIT ?',
      [webhookId, limit],
    );
    return rs.rows.map((r) => ({
      failedAt: (r.get('failed_at') as InstanceType<typeof cql.TimeUuid>).getDate(),
      eventId: r.get('event_id') as string,
      eventType: r.get('event_type') as string,
      conversationId: r.get('conversation_id') as string,
      attempts: r.get('attempts') as number,
      lastError: r.get('last_error') as string,
    }));
  }
}
