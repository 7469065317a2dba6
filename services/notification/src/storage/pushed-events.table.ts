import { Inject, Injectable } from '@nestjs/common';
import type { CassandraClient } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';

/** pushed_events: the users already pushed for an event, so a replayed event is not pushed twice. */
@Injectable()
export class PushedEventsTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  async usersPushed(eventId: string): Promise<Set<string>> {
    const rs = await this.db.execute('SELECT user_id FROM pushed_events WHERE event_id = ?', [eventId]);
    return new Set(rs.rows.map((r) => r.get('user_id') as string));
  }

  async record(userId: string, eventIds: readonly string[]): Promise<void> {
    await Promise.all(
      eventIds.map((eventId) =>
        this.db.execute('INSERT INTO pushed_events (event_id, user_id) VALUES (?, ?)', [eventId, userId]),
      ),
    );
  }
}
