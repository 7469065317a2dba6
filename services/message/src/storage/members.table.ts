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
  muted: boolean;
  /** The copy of the conversation's activity (ADR 0032); absent in channels and older rows. */
  activitySeq?: number | undefined;
  activityAt?: Date | undefined;
}

export interface MemberRow {
  userId: string;
  role: Role;
  joinedAt: Date;
  muted: boolean;
}

const MEMBERSHIP_COLUMNS = 'conversation_id, role, joined_at, read_seq, muted, activity_seq, activity_at';

/** Both sides of membership: members_by_conversation and conversations_by_user (with the read marker). */
@Injectable()
export class MembersTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  /** A member of a conversation being created; `copyActivity` for all but channels (ADR 0032). */
  async add(
    conversationId: string,
    userId: string,
    role: Role,
    readSeq: number,
    at: Date,
    copyActivity: boolean,
  ): Promise<void> {
    const marker = this.readSeqStatement(userId, conversationId, readSeq);
    const activity = copyActivity ? [this.activityStatement(userId, conversationId, readSeq, at)] : [];
    await Promise.all([
      this.db.execute(
        'INSERT INTO members_by_conversation (conversation_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)',
        [conversationId, userId, role, at],
      ),
      this.db.execute(
        'INSERT INTO conversations_by_user (user_id, conversation_id, role, joined_at) VALUES (?, ?, ?, ?)',
        [userId, conversationId, role, at],
      ),
      ...[marker, ...activity].map((st) => this.db.execute(st.query, st.params)),
    ]);
  }

  /**
   * The sequencer's membership writes (ADR 0013), each at its change's membershipTimestamp():
   * applied in the order decided whenever they land, so a removal and a re-add end as decided.
   * The read marker and the activity copy keep their own, higher timestamps (see
   * readSeqStatement); the copy starts at the join (ADR 0032).
   */
  /**
   * A member added: `readSeq` is what they have read (the seq when they joined), `lastSeq` the
   * conversation's last seq once the batch is stored (their copy of its activity).
   */
  addStatements(
    conversationId: string,
    userId: string,
    role: Role,
    seqs: { readSeq: number; lastSeq: number },
    at: Date,
    ts: number,
    copyActivity: boolean,
    muted = false,
  ): Statement[] {
    return [
      {
        query:
          'INSERT INTO members_by_conversation (conversation_id, user_id, role, joined_at, muted) VALUES (?, ?, ?, ?, ?) USING TIMESTAMP ?',
        params: [conversationId, userId, role, at, muted, ts],
      },
      {
        query:
          'INSERT INTO conversations_by_user (user_id, conversation_id, role, joined_at, muted) VALUES (?, ?, ?, ?, ?) USING TIMESTAMP ?',
        params: [userId, conversationId, role, at, muted, ts],
      },
      this.readSeqStatement(userId, conversationId, seqs.readSeq),
      ...(copyActivity ? [this.activityStatement(userId, conversationId, seqs.lastSeq, at)] : []),
    ];
  }

  /**
   * The user is no member any more; a muted member's mute stays on the user's row (without a role,
   * which is no membership) until they are a member again.
   */
  removeStatements(conversationId: string, userId: string, ts: number, keepMute = false): Statement[] {
    return [
      {
        query:
          'DELETE FROM members_by_conversation USING TIMESTAMP ? WHERE conversation_id = ? AND user_id = ?',
        params: [ts, conversationId, userId],
      },
      {
        query: `DELETE ${keepMute ? 'role, joined_at ' : ''}FROM conversations_by_user USING TIMESTAMP ? WHERE user_id = ? AND conversation_id = ?`,
        params: [ts, userId, conversationId],
      },
    ];
  }

  /** Role and mute of a member the sequencer knows to be one when the change is decided. */
  updateStatements(
    conversationId: string,
    userId: string,
    role: Role,
    muted: boolean,
    ts: number,
  ): Statement[] {
    return [
      {
        query:
          'UPDATE members_by_conversation USING TIMESTAMP ? SET role = ?, muted = ? WHERE conversation_id = ? AND user_id = ?',
        params: [ts, role, muted, conversationId, userId],
      },
      {
        query:
          'UPDATE conversations_by_user USING TIMESTAMP ? SET role = ?, muted = ? WHERE user_id = ? AND conversation_id = ?',
        params: [ts, role, muted, userId, conversationId],
      },
    ];
  }

  async membership(userId: string, conversationId: string): Promise<MembershipRow | undefined> {
    return (await this.membershipOrMute(userId, conversationId)).membership;
  }

  /** The user's membership, or, when the user left or was removed while muted, that mute. */
  async membershipOrMute(
    userId: string,
    conversationId: string,
  ): Promise<{ membership?: MembershipRow; mutedOnRecord: boolean }> {
    const row = (
      await this.db.execute(
        `SELECT ${MEMBERSHIP_COLUMNS} FROM conversations_by_user WHERE user_id = ? AND conversation_id = ?`,
        [userId, conversationId],
      )
    ).first();
    if (row?.get('role')) return { membership: toMembership(row), mutedOnRecord: false };
    return { mutedOnRecord: row?.get('muted') === true };
  }

  /** How many conversations the user belongs to (rows of left ones have no role and do not count). */
  async countOf(userId: string): Promise<number> {
    const row = (
      await this.db.execute('SELECT COUNT(role) AS n FROM conversations_by_user WHERE user_id = ?', [userId])
    ).first();
    return Number(row?.get('n') ?? 0);
  }

  /** The ids of every conversation the user is in (paged through by the driver). */
  async conversationIdsOf(userId: string): Promise<string[]> {
    const out: string[] = [];
    for await (const row of allRows(
      this.db,
      'SELECT conversation_id, role FROM conversations_by_user WHERE user_id = ?',
      [userId],
    ))
      if (row.get('role')) out.push(row.get('conversation_id') as string);
    return out;
  }

  /** Every conversation of the user (paged through by the driver). */
  async conversationsOf(userId: string): Promise<MembershipRow[]> {
    const out: MembershipRow[] = [];
    for await (const row of allRows(
      this.db,
      `SELECT ${MEMBERSHIP_COLUMNS} FROM conversations_by_user WHERE user_id = ?`,
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
      'SELECT user_id, role, joined_at, muted FROM members_by_conversation WHERE conversation_id = ?',
      [conversationId],
    )) {
      out.push({
        userId: row.get('user_id') as string,
        role: row.get('role') as Role,
        joinedAt: row.get('joined_at') as Date,
        muted: row.get('muted') === true,
      });
      if (out.length >= limit) break;
    }
    return out;
  }

  /** One page of members in user id order, after `afterUserId` ('' from the start). */
  async membersPage(conversationId: string, afterUserId: string, limit: number): Promise<MemberRow[]> {
    const rs = await this.db.execute(
      'SELECT user_id, role, joined_at, muted FROM members_by_conversation WHERE conversation_id = ? AND user_id > ? LIMIT ?',
      [conversationId, afterUserId, limit],
    );
    return rs.rows.map((row) => ({
      userId: row.get('user_id') as string,
      role: row.get('role') as Role,
      joinedAt: row.get('joined_at') as Date,
      muted: row.get('muted') === true,
    }));
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
   * deletes the row at its change's membershipTimestamp(), below this cell's, which leaves it: a
   * row without a role is no membership (see membership()), and a re-added member's marker is
   * the larger of the two.
   */
  readSeqStatement(userId: string, conversationId: string, readSeq: number): Statement {
    return {
      query:
        'UPDATE conversations_by_user USING TIMESTAMP ? SET read_seq = ? WHERE user_id = ? AND conversation_id = ?',
      params: [monotonicTimestamp(readSeq), readSeq, userId, conversationId],
    };
  }

  /**
   * The member's copy of the conversation's activity (ADR 0032), with the seq as write timestamp
   * like the read marker: a late write from a stalled sequencer never moves it back, and a
   * removal's DELETE leaves it (a row without a role is no membership).
   */
  activityStatement(userId: string, conversationId: string, seq: number, at: Date): Statement {
    return {
      query:
        'UPDATE conversations_by_user USING TIMESTAMP ? SET activity_seq = ?, activity_at = ? WHERE user_id = ? AND conversation_id = ?',
      params: [monotonicTimestamp(seq), seq, at, userId, conversationId],
    };
  }
}

function toMembership(row: { get(n: string): unknown }): MembershipRow {
  return {
    conversationId: row.get('conversation_id') as string,
    role: row.get('role') as Role,
    joinedAt: row.get('joined_at') as Date,
    readSeq: Number(row.get('read_seq') ?? 0),
    muted: row.get('muted') === true,
    activitySeq: row.get('activity_seq') == null ? undefined : Number(row.get('activity_seq')),
    activityAt: (row.get('activity_at') as Date | null) ?? undefined,
  };
}
