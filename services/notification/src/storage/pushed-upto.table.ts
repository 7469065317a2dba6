import { Inject, Injectable } from '@nestjs/common';
import type { CassandraClient } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';

/**
 * pushed_upto: the highest seq each user was pushed for in each conversation. Messages of a
 * conversation are sequenced, so a replayed event at or below it was pushed already.
 */
@Injectable()
export class PushedUptoTable {
  /**
   * What this replica wrote or read, valid while it keeps the conversations' partitions (forget()
   * at every rebalance): in steady state a push needs no read here.
   */
  private readonly known = new Map<string, number>();

  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  forget(): void {
    this.known.clear();
  }

  async get(userId: string, conversationId: string): Promise<number> {
    const key = `${userId}|${conversationId}`;
    const hit = this.known.get(key);
    if (hit !== undefined) return hit;
    const seq = await this.read(userId, conversationId);
    this.remember(key, seq);
    return seq;
  }

  private remember(key: string, seq: number): void {
    if (this.known.size >= 200_000) this.known.clear();
    if (seq > (this.known.get(key) ?? -1)) this.known.set(key, seq);
  }

  private async read(userId: string, conversationId: string): Promise<number> {
    const row = (
      await this.db.execute('SELECT seq FROM pushed_upto WHERE user_id = ? AND conversation_id = ?', [
        userId,
        conversationId,
      ])
    ).first();
    return Number(row?.get('seq') ?? 0);
  }

  /** With the seq as write timestamp: it never moves back, whoever writes last. */
  async advance(userId: string, conversationId: string, seq: number): Promise<void> {
    this.remember(`${userId}|${conversationId}`, seq);
    await this.db.execute(
      'UPDATE pushed_upto USING TIMESTAMP ? SET seq = ? WHERE user_id = ? AND conversation_id = ?',
      [seq, seq, userId, conversationId],
    );
    this.remember(`${userId}|${conversationId}`, seq);
  }
}
