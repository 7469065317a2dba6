import { Inject, Injectable } from '@nestjs/common';
import type { CassandraClient } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';

@Injectable()
export class DirectConversationsTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  /** Claims the pair for conversationId; returns the conversation that holds the pair (maybe another one). */
  async claim(
    tenantId: string,
    pairKey: string,
    conversationId: string,
  ): Promise<{ conversationId: string; created: boolean }> {
    const rs = await this.db.execute(
      'INSERT INTO direct_conversations (tenant_id, user_pair, conversation_id) VALUES (?, ?, ?) IF NOT EXISTS',
      [tenantId, pairKey, conversationId],
    );
    const row = rs.first();
    return row.get('[applied]')
      ? { conversationId, created: true }
      : { conversationId: row.get('conversation_id'), created: false };
  }
}
