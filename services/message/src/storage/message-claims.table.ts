import { Inject, Injectable } from '@nestjs/common';
import { GroupCommit, type CassandraClient, type Statement } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';
import type { Claim, ClaimKey } from '../domain/sequencing.js';

/** Keys per IN query: one request, each key a partition the coordinator reads. */
const KEYS_PER_READ = 100;

/**
 * message_claims_by_key: the seq each (sender, clientMsgId) claimed in its conversation
 * (idempotency). Reads of every conversation in flight share requests (GroupCommit, ADR 0026).
 */
@Injectable()
export class MessageClaimsTable {
  private readonly reads: GroupCommit<string, Claim | undefined>;

  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {
    this.reads = new GroupCommit(async (keys) => {
      const found = await this.readMany([...new Set(keys)]);
      return keys.map((k) => ({ status: 'fulfilled', value: found.get(k) }));
    });
  }

  get(conversationId: string, key: ClaimKey): Promise<Claim | undefined> {
    return this.reads.submit(claimKey(conversationId, key));
  }

  async write(s: Statement): Promise<void> {
    await this.db.execute(s.query, s.params, { prepare: true });
  }

  claimStatement(conversationId: string, key: ClaimKey, claim: Claim): Statement {
    return {
      query: 'INSERT INTO message_claims_by_key (claim_key, seq, message_id) VALUES (?, ?, ?)',
      params: [claimKey(conversationId, key), claim.seq, claim.messageId],
    };
  }

  private async readMany(keys: readonly string[]): Promise<Map<string, Claim>> {
    const found = new Map<string, Claim>();
    const chunks: string[][] = [];
    for (let i = 0; i < keys.length; i += KEYS_PER_READ) chunks.push(keys.slice(i, i + KEYS_PER_READ));
    await Promise.all(
      chunks.map(async (chunk) => {
        const rs = await this.db.execute(
          'SELECT claim_key, seq, message_id FROM message_claims_by_key WHERE claim_key IN ?',
          [chunk],
          { prepare: true },
        );
        for (const row of rs.rows)
          found.set(row.get('claim_key'), { seq: Number(row.get('seq')), messageId: row.get('message_id') });
      }),
    );
    return found;
  }
}

/** Unambiguous whatever the ids contain. */
const claimKey = (conversationId: string, key: ClaimKey): string =>
  JSON.stringify([conversationId, key.senderId, key.clientMsgId]);
