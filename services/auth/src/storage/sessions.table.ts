import { Inject, Injectable } from '@nestjs/common';
import { allRows, type CassandraClient } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';

export interface SessionRow {
  sessionId: string;
  tenantId: string;
  userId: string;
  createdAt: Date;
  revokedAt: Date | null;
  revokeReason: string | null;
}

@Injectable()
export class SessionsTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  async create(s: {
    sessionId: string;
    tenantId: string;
    userId: string;
    clientIp: string;
    userAgent: string;
  }): Promise<void> {
    const now = new Date();
    await Promise.all([
      this.db.execute(
        'INSERT INTO sessions (session_id, tenant_id, user_id, created_at, last_refresh_at, client_ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [s.sessionId, s.tenantId, s.userId, now, now, s.clientIp, s.userAgent],
      ),
      this.db.execute('INSERT INTO sessions_by_user (user_id, session_id) VALUES (?, ?)', [
        s.userId,
        s.sessionId,
      ]),
    ]);
  }

  async get(sessionId: string): Promise<SessionRow | undefined> {
    const row = (
      await this.db.execute(
        'SELECT session_id, tenant_id, user_id, created_at, revoked_at, revoke_reason FROM sessions WHERE session_id = ?',
        [sessionId],
      )
    ).first();
    if (!row) return undefined;
    return {
      sessionId: row.get('session_id'),
      tenantId: row.get('tenant_id'),
      userId: row.get('user_id'),
      createdAt: row.get('created_at'),
      revokedAt: row.get('revoked_at'),
      revokeReason: row.get('revoke_reason'),
    };
  }

  /** Every session the user ever opened (revoked ones included). */
  async idsOfUser(userId: string): Promise<string[]> {
    const out: string[] = [];
    for await (const r of allRows(this.db, 'SELECT session_id FROM sessions_by_user WHERE user_id = ?', [
      userId,
    ]))
      out.push(r.get('session_id') as string);
    return out;
  }

  async touch(sessionId: string): Promise<void> {
    await this.db.execute('UPDATE sessions SET last_refresh_at = ? WHERE session_id = ?', [
      new Date(),
      sessionId,
    ]);
  }

  async revoke(sessionId: string, reason: string): Promise<void> {
    await this.db.execute('UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE session_id = ?', [
      new Date(),
      reason,
      sessionId,
    ]);
  }
}
