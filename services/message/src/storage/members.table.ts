import { Inject, Injectable } from '@nestjs/common';
import { allRows, type CassandraClient, type Statement } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';
import type { Role } from '../domain/conversation-rules.js';
import { monotonicTimestamp } from './monotonic-timestamp.js';

export interface MembershipRow {
  conversationId: string;
  role: Role;
  joinedAt: Date;
  readSeq: number;
}

export interface MemberRow {
  userId: string;
  role: Role;
  joinedAt: Date;
}

/** Both sides of membership: members_by_conversation and conversations_by_user (with the read marker). */
@Injectable()
export class MembersTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  async add(conversationId: string, userId: string, role: Role, readSeq: number, at: Date): Promise<void> {
    const marker = this.readSeqStatement(userId, conversationId, readSeq);
    await Promise.all([
      this.db.execute(
        'INSERT INTO members_by_conversation (conversation_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)',
        [conversationId, userId, role, at],
      ),
      this.db.execute(
        'INSERT INTO conversations_by_user (user_id, conversation_id, role, joined_at) VALUES (?, ?, ?, ?)',
        [userId, conversationId, role, at],
      ),
      this.db.execute(marker.query, marker.params),
    ]);
  }

  async remove(conversationId: string, userId: string): Promise<void> {
    await Promise.all([
      this.db.execute('DELETE FROM members_by_conversation WHERE conversation_id = ? AND user_id = ?', [
        conversationId,
        userId,
      ]),
      this.db.execute('DELETE FROM conversations_by_user WHERE user_id = ? AND conversation_id = ?', [
        userId,
        conversationId,
      ]),
    ]);
  }

  async membership(userId: string, conversationId: string): Promise<MembershipRow | undefined> {
    const row = (
      await this.db.execute(
        'SELECT conversation_id, role, joined_at, read_seq FROM conversations_by_user WHERE user_id = ? AND conversation_id = ?',
        [userId, conversationId],
      )
    ).first();
    return row && row.get('role') ? toMembership(row) : undefined;
  }

  /** Every conversation of the user (paged through by the driver). */
  async conversationsOf(userId: string): Promise<MembershipRow[]> {
    const out: MembershipRow[] = [];
    for await (const row of allRows(
      this.db,
      'SELECT conversation_id, role, joined_at, read_seq FROM conversations_by_user WHERE user_id = ?',
      [userId],
    )) {
      if (row.get('role')) out.push(toMembership(row));
    }
    return out;
  }

  async members(conversationId: string, limit = 1_000_000): Promise<MemberRow[]> {
    const out: MemberRow[] = [];
    for await (const row of allRows(
      this.db,
      'SELECT user_id, role, joined_at FROM members_by_conversation WHERE conversation_id = ?',
      [conversationId],
    )) {
      out.push({
        userId: row.get('user_id') as string,
        role: row.get('role') as Role,
        joinedAt: row.get('joined_at') as Date,
      });
      if (out.length >= limit) break;
    }
    return out;
  }

  async count(conversationId: string): Promise<number> {
    const row = (
      await this.db.execute('SELECT COUNT(*) AS n FROM members_by_conversation WHERE conversation_id = ?', [
        conversationId,
      ])
    ).first();
    return Number(row.get('n'));
  }

  /**
   * The read marker, with the seq as write timestamp: it never moves back, whoever writes last
   * (the partition's sequencer; and at join, the conversation's last seq). Removing a member
   * deletes the row at the current time, which leaves this cell: a row without a role is no
   * membership (see membership()), and a re-added member's marker is the larger of the two.
   */
  readSeqStatement(userId: string, conversationId: string, readSeq: number): Statement {
    return {
      query:
        'UPDATE conversations_by_user USING TIMESTAMP ? SET read_seq = ? WHERE user_id = ? AND conversation_id = ?',
      params: [monotonicTimestamp(readSeq), readSeq, userId, conversationId],
    };
  }
}

function toMembership(row: { get(n: string): unknown }): MembershipRow {
  return {
    conversationId: row.get('conversation_id') as string,
    role: row.get('role') as Role,
    joinedAt: row.get('joined_at') as Date,
    readSeq: Number(row.get('read_seq') ?? 0),
  };
}
