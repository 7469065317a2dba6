import { Inject, Injectable } from '@nestjs/common';
import type { CassandraClient } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';

export interface InvitationRow {
  userId: string;
  conversationId: string;
  invitedBy: string;
  invitedAt: Date;
}

/** Open invitations by invited user, and the ones they declined (rows lapse after 30 days). */
@Injectable()
export class InvitationsTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  async put(row: InvitationRow): Promise<void> {
    await this.db.execute(
      'INSERT INTO invitations_by_user (user_id, conversation_id, invited_by, invited_at) VALUES (?, ?, ?, ?)',
      [row.userId, row.conversationId, row.invitedBy, row.invitedAt],
    );
  }

  async get(userId: string, conversationId: string): Promise<InvitationRow | undefined> {
    const row = (
      await this.db.execute(
        'SELECT invited_by, invited_at FROM invitations_by_user WHERE user_id = ? AND conversation_id = ?',
        [userId, conversationId],
      )
    ).first();
    return row
      ? { userId, conversationId, invitedBy: row.get('invited_by'), invitedAt: row.get('invited_at') }
      : undefined;
  }

  async ofUser(userId: string, limit: number): Promise<InvitationRow[]> {
    const rs = await this.db.execute(
      'SELECT conversation_id, invited_by, invited_at FROM invitations_by_user WHERE user_id = ? LIMIT ?',
      [userId, limit],
    );
    return rs.rows.map((r) => ({
      userId,
      conversationId: r.get('conversation_id'),
      invitedBy: r.get('invited_by'),
      invitedAt: r.get('invited_at'),
    }));
  }

  async declined(userId: string, conversationId: string): Promise<boolean> {
    const rs = await this.db.execute(
      'SELECT declined_at FROM declined_invitations WHERE user_id = ? AND conversation_id = ?',
      [userId, conversationId],
    );
    return rs.rows.length > 0;
  }

  /** Drops the invitation and remembers the decline (the row lapses after 30 days). */
  async decline(userId: string, conversationId: string, at: Date): Promise<void> {
    await this.db.execute(
      'INSERT INTO declined_invitations (user_id, conversation_id, declined_at) VALUES (?, ?, ?)',
      [userId, conversationId, at],
    );
    await this.delete(userId, conversationId);
  }

  async delete(userId: string, conversationId: string): Promise<void> {
    await this.db.execute('DELETE FROM invitations_by_user WHERE user_id = ? AND conversation_id = ?', [
      userId,
      conversationId,
    ]);
  }
}
