import { Inject, Injectable } from '@nestjs/common';
import type { CassandraClient, Statement } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';
import type { Claim } from '../domain/sequencing.js';

/** message_by_client_id: the seq each clientMsgId claimed in its conversation (idempotency). */
@Injectable()
export class ClientIdsTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  async get(conversationId: string, clientMsgId: string): Promise<Claim | undefined> {
    const row = (
      await this.db.execute(
        'SELECT seq, message_id FROM message_by_client_id WHERE conversation_id = ? AND client_msg_id = ?',
        [conversationId, clientMsgId],
      )
    ).first();
    return row ? { seq: Number(row.get('seq')), messageId: row.get('message_id') } : undefined;
  }

  claimStatement(conversationId: string, clientMsgId: string, claim: Claim): Statement {
    return {
      query:
        'INSERT INTO message_by_client_id (conversation_id, client_msg_id, seq, message_id) VALUES (?, ?, ?, ?)',
      params: [conversationId, clientMsgId, claim.seq, claim.messageId],
    };
  }
}
