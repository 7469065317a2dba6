import { Inject, Injectable } from '@nestjs/common';
import type { CassandraClient, Statement } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';
import type { Claim, ClaimKey } from '../domain/sequencing.js';

/** message_claims: the seq each (sender, clientMsgId) claimed in its conversation (idempotency). */
@Injectable()
export class MessageClaimsTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  async get(conversationId: string, key: ClaimKey): Promise<Claim | undefined> {
    const row = (
      await this.db.execute(
        'SELECT seq, message_id FROM message_claims WHERE conversation_id = ? AND sender_id = ? AND client_msg_id = ?',
        [conversationId, key.senderId, key.clientMsgId],
      )
    ).first();
    return row ? { seq: Number(row.get('seq')), messageId: row.get('message_id') } : undefined;
  }

  async write(s: Statement): Promise<void> {
    await this.db.execute(s.query, s.params);
  }

  claimStatement(conversationId: string, key: ClaimKey, claim: Claim): Statement {
    return {
      query:
        'INSERT INTO message_claims (conversation_id, sender_id, client_msg_id, seq, message_id) VALUES (?, ?, ?, ?, ?)',
      params: [conversationId, key.senderId, key.clientMsgId, claim.seq, claim.messageId],
    };
  }
}
