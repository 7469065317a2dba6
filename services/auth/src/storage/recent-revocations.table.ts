import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@im/platform/errors';
import type { CassandraClient } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';
import type { SessionRevoked } from '@im/proto/events/v1';

const MINUTE_MS = 60_000;

interface Position {
  minute: number;
  after: string;
}

/** Every revocation still worth knowing, by the minute it was made (migration 0011). */
@Injectable()
export class RecentRevocationsTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  async add(rev: SessionRevoked, ttlSec: number): Promise<void> {
    await this.db.execute(
      'INSERT INTO revocations_by_minute (minute, session_id, user_id, expires_at, reason) VALUES (?, ?, ?, ?, ?) USING TTL ?',
      [
        new Date(floorMinute(Date.now())),
        rev.sessionId,
        rev.userId,
        rev.expiresAt ? new Date(rev.expiresAt) : undefined,
        rev.reason,
        ttlSec,
      ],
    );
  }

  /** Up to `limit` revocations made within the last `ttlSec`, from `pageToken` on. */
  async page(
    pageToken: string,
    ttlSec: number,
    limit: number,
  ): Promise<{ revocations: SessionRevoked[]; nextPageToken: string }> {
    const now = Date.now();
    const first = floorMinute(now - ttlSec * 1000);
    const at = pageToken ? decodeToken(pageToken) : { minute: first, after: '' };
    const out: SessionRevoked[] = [];
    for (let minute = Math.max(at.minute, first); minute <= floorMinute(now); minute += MINUTE_MS) {
      const after = minute === at.minute ? at.after : '';
      const rs = await this.db.execute(
        'SELECT session_id, user_id, expires_at, reason FROM revocations_by_minute WHERE minute = ? AND session_id > ? LIMIT ?',
        [new Date(minute), after, limit - out.length],
      );
      for (const r of rs.rows)
        out.push({
          sessionId: r.get('session_id') as string,
          userId: r.get('user_id') as string,
          expiresAt: (r.get('expires_at') as Date | null)?.toISOString(),
          reason: r.get('reason') as string,
        });
      if (out.length >= limit)
        return { revocations: out, nextPageToken: encodeToken({ minute, after: out.at(-1)!.sessionId }) };
    }
    return { revocations: out, nextPageToken: '' };
  }
}

const floorMinute = (ms: number) => Math.floor(ms / MINUTE_MS) * MINUTE_MS;

const encodeToken = (p: Position) => Buffer.from(JSON.stringify([p.minute, p.after])).toString('base64url');

function decodeToken(token: string): Position {
  try {
    const [minute, after] = JSON.parse(Buffer.from(token, 'base64url').toString()) as unknown[];
    if (Number.isSafeInteger(minute) && typeof after === 'string') return { minute: minute as number, after };
  } catch {
    // answered below
  }
  throw new AppError('invalid_argument', 'pageToken: not a token of this list');
}
