import { Inject, Injectable } from '@nestjs/common';
import { cql, type CassandraClient } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';

/**
 * A client IP; an account (tenant:username); an account from one client IP; a user's second-factor
 * codes; registrations (attempts, failed or not) from a client IP and into a tenant.
 */
export type FailureScope =
  'account' | 'ip' | 'account-ip' | 'mfa' | 'mfa-day' | 'register-ip' | 'register-tenant';

@Injectable()
export class LoginFailuresTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  /** Records an attempt (kept as a failure unless forgotten); returns its id. */
  async record(scope: FailureScope, subject: string, ttlSec: number): Promise<string> {
    const at = cql.TimeUuid.now();
    await this.db.execute('INSERT INTO login_failures (scope, subject, at) VALUES (?, ?, ?) USING TTL ?', [
      scope,
      subject,
      at,
      ttlSec,
    ]);
    return at.toString();
  }

  /** The attempt succeeded: it is no failure. */
  async forget(scope: FailureScope, subject: string, id: string): Promise<void> {
    await this.db.execute('DELETE FROM login_failures WHERE scope = ? AND subject = ? AND at = ?', [
      scope,
      subject,
      cql.TimeUuid.fromString(id),
    ]);
  }

  /**
   * The attempts after `sinceMs`, newest first, at most `limit`: a range of the partition, so
   * expired rows older than the window are never scanned.
   */
  async since(
    scope: FailureScope,
    subject: string,
    sinceMs: number,
    limit: number,
  ): Promise<Array<{ id: string; at: number }>> {
    const rs = await this.db.execute(
      'SELECT at FROM login_failures WHERE scope = ? AND subject = ? AND at > maxTimeuuid(?) LIMIT ?',
      [scope, subject, new Date(sinceMs), limit],
      { fetchSize: limit },
    );
    return rs.rows.map(toAttempt);
  }

  /** The most recent attempts, newest first, at most `limit`: their ids and times (ms). */
  async recent(
    scope: FailureScope,
    subject: string,
    limit: number,
  ): Promise<Array<{ id: string; at: number }>> {
    const rs = await this.db.execute(
      'SELECT at FROM login_failures WHERE scope = ? AND subject = ? LIMIT ?',
      [scope, subject, limit],
    );
    return rs.rows.map(toAttempt);
  }
}

/** A row's attempt: its id and time (ms). */
function toAttempt(row: { get(name: string): unknown }): { id: string; at: number } {
  const at = row.get('at') as InstanceType<typeof cql.TimeUuid>;
  return { id: at.toString(), at: at.getDate().getTime() };
}
