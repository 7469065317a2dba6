import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { CassandraClient } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';

/** store_probes: a write of no other use, for when the sequencer must see one acknowledged. */
@Injectable()
export class StoreProbesTable {
  private readonly writer = randomUUID();

  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  async write(): Promise<void> {
    await this.db.execute('INSERT INTO store_probes (writer, at) VALUES (?, ?)', [this.writer, new Date()]);
  }
}
