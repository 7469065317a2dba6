import { Inject, Injectable } from '@nestjs/common';
import { cql, type CassandraClient } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';

export type FailureScope = 'account' | 'ip';

@Injectable()
export class LoginFailuresTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  async record(scope: FailureScope, subject: string, ttlSec: number): Promise<void> {
    await this.db.execute('INSERT INTO login_failures (scope, subject, at) VALUES (?, ?, ?) USING TTL ?', [
      scope,
      subject,
      cql.TimeUuid.now(),
      ttlSec,
    ]);
  }

  /** Times (ms) of the most recent failures, newest first, at most `limit`. */
  async recent(scope: FailureScope, subject: string, limit: number): Promise<number[]> {
    const rs = await this.db.execute(
      'SELECT at FROM login_failures WHERE scope = ? AND subject = ? LIMIT ?',
      [scope, subject, limit],
    );
    return rs.rows.map((r) => (r.get('at') as InstanceType<typeof cql.TimeUuid>).getDate().getTime());
  }
}
