import { Inject, Injectable } from '@nestjs/common';
import type { CassandraClient } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';

/** The last mail to an address (from any tenant), for as long as the next one must wait (TTL). */
@Injectable()
export class EmailSendsTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  /** Takes the address's slot for `seconds`; false when a mail went there within them. */
  async claim(email: string, seconds: number): Promise<boolean> {
    const rs = await this.db.execute(
      'INSERT INTO email_sends (email, sent_at) VALUES (?, ?) IF NOT EXISTS USING TTL ?',
      [email, new Date(), seconds],
    );
    return rs.first().get('[applied]') === true;
  }

  /** Frees the slot (the mail was never sent); conditional, as the claim was. */
  async release(email: string): Promise<void> {
    await this.db.execute('DELETE FROM email_sends WHERE email = ? IF EXISTS', [email]);
  }
}
