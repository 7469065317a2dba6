import { Inject, Injectable } from '@nestjs/common';
import type { CassandraClient, Statement } from '@im/platform/cassandra';
import { CASSANDRA } from '@im/platform/nest';
import { Attachment, Reaction, type Message } from '@im/proto/client/v1';
import { bucketOf } from '../domain/bucketing.js';
import { monotonicTimestamp } from './monotonic-timestamp.js';

const COLUMNS =
  'conversation_id, seq, message_id, sender_id, client_msg_id, text, reply_to_seq, attachments, created_at, edited_at, deleted, version, reactions, pinned_by, pinned_at, mentions, reply_count, last_reply_at, last_reply_seq';

/** messages ((conversation_id, bucket), seq DESC): history, one bucket of 1000 seqs per partition. */
@Injectable()
export class MessagesTable {
  constructor(@Inject(CASSANDRA) private readonly db: CassandraClient) {}

  async insert(m: Message): Promise<void> {
    const s = this.insertStatement(m);
    await this.db.execute(s.query, s.params);
  }

  insertStatement(m: Message): Statement {
    return {
      query:
        'INSERT INTO messages (conversation_id, bucket, seq, message_id, sender_id, client_msg_id, text, reply_to_seq, attachments, created_at, mentions) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      params: [
        m.conversationId,
        bucketOf(m.seq),
        m.seq,
        m.id,
        m.senderId,
        m.clientMsgId,
        m.text,
        m.replyTo?.seq ?? null,
        m.attachments.length ? encodeList(m.attachments, Attachment) : null,
        m.createdAt ? new Date(m.createdAt) : new Date(),
        m.mentions.length ? m.mentions : null,
      ],
    };
  }

  /**
   * The stored form of an update: the fields it changed and the version, written at the version's
   * timestamp (the latest update wins; a late insert of the original row never does).
   */
  updateStatement(m: Message, change: 'edited' | 'deleted' | 'reactions' | 'pin' | 'thread'): Statement {
    const key = [m.conversationId, bucketOf(m.seq), m.seq];
    const ts = monotonicTimestamp(m.version);
    switch (change) {
      case 'edited':
        return {
          query:
            'UPDATE messages USING TIMESTAMP ? SET text = ?, edited_at = ?, version = ? WHERE conversation_id = ? AND bucket = ? AND seq = ?',
          params: [ts, m.text, new Date(m.editedAt!), m.version, ...key],
        };
      case 'deleted':
        return {
          query:
            'UPDATE messages USING TIMESTAMP ? SET text = null, attachments = null, reactions = null, pinned_by = null, pinned_at = null, mentions = null, deleted = true, version = ? WHERE conversation_id = ? AND bucket = ? AND seq = ?',
          params: [ts, m.version, ...key],
        };
      case 'reactions':
        return {
          query:
            'UPDATE messages USING TIMESTAMP ? SET reactions = ?, version = ? WHERE conversation_id = ? AND bucket = ? AND seq = ?',
          params: [ts, m.reactions.length ? encodeList(m.reactions, Reaction) : null, m.version, ...key],
        };
      case 'thread':
        return {
          query:
            'UPDATE messages USING TIMESTAMP ? SET reply_count = ?, last_reply_at = ?, last_reply_seq = ?, version = ? WHERE conversation_id = ? AND bucket = ? AND seq = ?',
          params: [ts, m.replyCount, new Date(m.lastReplyAt!), m.lastReplySeq, m.version, ...key],
        };
      case 'pin':
        return {
          query:
            'UPDATE messages USING TIMESTAMP ? SET pinned_by = ?, pinned_at = ?, version = ? WHERE conversation_id = ? AND bucket = ? AND seq = ?',
          params: [
            ts,
            m.pin?.pinnedBy ?? null,
            m.pin?.pinnedAt ? new Date(m.pin.pinnedAt) : null,
            m.version,
            ...key,
          ],
        };
    }
  }

  /**
   * Several messages of one conversation by seq (missing ones left out), in the order asked: one
   * request per bucket (a partition), not one per message.
   */
  async getMany(conversationId: string, seqs: readonly number[]): Promise<Message[]> {
    const byBucket = new Map<number, number[]>();
    for (const seq of seqs) {
      const list = byBucket.get(bucketOf(seq));
      if (list) list.push(seq);
      else byBucket.set(bucketOf(seq), [seq]);
    }
    const rows = await Promise.all(
      [...byBucket].map(([bucket, list]) =>
        this.db.execute(
          `SELECT ${COLUMNS} FROM messages WHERE conversation_id = ? AND bucket = ? AND seq IN ?`,
          [conversationId, bucket, list],
        ),
      ),
    );
    const found = new Map(rows.flatMap((rs) => rs.rows.map((r) => toMessage(r))).map((m) => [m.seq, m]));
    return seqs.flatMap((seq) => {
      const m = found.get(seq);
      return m ? [m] : [];
    });
  }

  async get(conversationId: string, seq: number): Promise<Message | undefined> {
    const row = (
      await this.db.execute(
        `SELECT ${COLUMNS} FROM messages WHERE conversation_id = ? AND bucket = ? AND seq = ?`,
        [conversationId, bucketOf(seq), seq],
      )
    ).first();
    return row ? toMessage(row) : undefined;
  }

  /** The highest seq stored in one bucket (0 when empty). */
  async maxSeqIn(conversationId: string, bucket: number): Promise<number> {
    const row = (
      await this.db.execute('SELECT seq FROM messages WHERE conversation_id = ? AND bucket = ? LIMIT 1', [
        conversationId,
        bucket,
      ])
    ).first();
    return row ? Number(row.get('seq')) : 0;
  }

  /** Up to `limit` messages with seq < beforeSeq, newest first, walking down the buckets. */
  async before(conversationId: string, beforeSeq: number, limit: number): Promise<Message[]> {
    const out: Message[] = [];
    for (let bucket = bucketOf(beforeSeq - 1); bucket >= 0 && out.length < limit && beforeSeq > 1; bucket--) {
      const rs = await this.db.execute(
        `SELECT ${COLUMNS} FROM messages WHERE conversation_id = ? AND bucket = ? AND seq < ? LIMIT ?`,
        [conversationId, bucket, beforeSeq, limit - out.length],
      );
      for (const row of rs.rows) out.push(toMessage(row));
    }
    return out;
  }

  /**
   * Up to `limit` messages with afterSeq < seq <= upToSeq, oldest first, walking up the buckets;
   * stops early once the messages add up to maxBytes (at least one is always returned).
   */
  async after(
    conversationId: string,
    afterSeq: number,
    upToSeq: number,
    limit: number,
    maxBytes = Infinity,
  ): Promise<Message[]> {
    const out: Message[] = [];
    let bytes = 0;
    for (
      let bucket = bucketOf(afterSeq + 1);
      bucket <= bucketOf(upToSeq) && out.length < limit && bytes < maxBytes;
      bucket++
    ) {
      const rs = await this.db.execute(
        `SELECT ${COLUMNS} FROM messages WHERE conversation_id = ? AND bucket = ? AND seq > ? AND seq <= ? ORDER BY seq ASC LIMIT ?`,
        [conversationId, bucket, afterSeq, upToSeq, limit - out.length],
      );
      for (const row of rs.rows) {
        const m = toMessage(row);
        if (out.length > 0 && bytes + approximateSize(m) > maxBytes) return out;
        bytes += approximateSize(m);
        out.push(m);
      }
    }
    return out;
  }
}

/** Bytes a message adds to a response (UTF-8 text plus a fixed allowance for the other fields). */
export function approximateSize(m: Message): number {
  return Buffer.byteLength(m.text) + 300 + m.attachments.length * 200;
}

interface Codec<T> {
  encode(value: T): { finish(): Uint8Array };
  decode(bytes: Uint8Array): T;
}

/** A list of protobuf messages as length-prefixed (2 bytes) encodings. */
function encodeList<T>(list: readonly T[], codec: Codec<T>): Buffer {
  const parts = list.map((a) => Buffer.from(codec.encode(a).finish()));
  return Buffer.concat(parts.flatMap((p) => [Buffer.from([p.length >> 8, p.length & 0xff]), p]));
}

function decodeList<T>(buf: Buffer | null, codec: Codec<T>): T[] {
  if (!buf) return [];
  const out: T[] = [];
  for (let i = 0; i < buf.length;) {
    const len = (buf[i]! << 8) | buf[i + 1]!;
    out.push(codec.decode(buf.subarray(i + 2, i + 2 + len)));
    i += 2 + len;
  }
  return out;
}

function toMessage(row: { get(n: string): unknown }): Message {
  const edited = row.get('edited_at') as Date | null;
  const deleted = row.get('deleted') as boolean | null;
  const replyTo = row.get('reply_to_seq') as unknown;
  const lastReplyAt = row.get('last_reply_at') as Date | null;
  const pinnedBy = row.get('pinned_by') as string | null;
  return {
    id: row.get('message_id') as string,
    conversationId: row.get('conversation_id') as string,
    seq: Number(row.get('seq')),
    senderId: row.get('sender_id') as string,
    clientMsgId: row.get('client_msg_id') as string,
    text: (row.get('text') as string | null) ?? '',
    createdAt: (row.get('created_at') as Date).toISOString(),
    ...(edited ? { editedAt: edited.toISOString() } : {}),
    ...(deleted ? { deleted: true } : {}),
    // the root's sender and preview are filled in by whoever reads the reply (domain/threads.ts)
    ...(replyTo != null ? { replyTo: { seq: Number(replyTo), senderId: '', preview: '' } } : {}),
    attachments: decodeList(row.get('attachments') as Buffer | null, Attachment),
    reactions: decodeList(row.get('reactions') as Buffer | null, Reaction),
    version: Number(row.get('version') ?? 0),
    mentions: (row.get('mentions') as string[] | null) ?? [],
    replyCount: Number(row.get('reply_count') ?? 0),
    ...(lastReplyAt ? { lastReplyAt: lastReplyAt.toISOString() } : {}),
    lastReplySeq: Number(row.get('last_reply_seq') ?? 0),
    ...(pinnedBy ? { pin: { pinnedBy, pinnedAt: (row.get('pinned_at') as Date).toISOString() } } : {}),
  };
}
